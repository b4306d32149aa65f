"""The request's transaction: every HTTP route that touches the database depends on `Db`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import database, unit_of_work


async def get_db() -> AsyncIterator[AsyncSession]:
    """Committed when the handler returns, rolled back if it raises; post-commit work
    (DMs) runs after the commit.

    `Db` declares it with `scope="function"`, so the commit happens before the response is
    sent: a failed commit is an error response, never a reported success.
    """
    async with database.sessions() as db, unit_of_work(db):
        yield db


Db = Annotated[AsyncSession, Depends(get_db, scope="function")]
