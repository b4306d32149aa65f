"""FastAPI dependencies shared by every front door."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import database


async def get_db() -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler returns, rolled back on error.

    Routes declare it with `scope="function"` so the commit happens before the response is
    sent; a failed commit is then an error response, never a reported success.
    """
    async with database.sessions() as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
