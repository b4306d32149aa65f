"""Throttling failed sign-ins: the rule, counted per client address in PostgreSQL.

A refused credential (an unknown token or cookie, a spent link, a wrong secret or
signature) counts against the address it came from. After LIMIT failures within WINDOW
the address is refused until the oldest of them is WINDOW old. The count lives in the
database, so every process and serverless instance sees the same one.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.repositories.auth_failures import AuthFailureRepository
from app.repositories.credentials import Throttle

LIMIT = 20
WINDOW = timedelta(minutes=1)


async def retry_after(db: AsyncSession, address: str) -> int | None:
    """Whole seconds until the address may sign in again; None when it may now."""
    now = clock.now()
    nth = await AuthFailureRepository(db).nth_latest_since(address, now - WINDOW, LIMIT)
    return waiting(nth, now)


def of(address: str, now: datetime) -> Throttle:
    """The rule for `address` at `now`, for a statement that checks it along with a
    credential (`app.accounts.user_for_token_unless_throttled`)."""
    return Throttle(address, now - WINDOW, LIMIT)


def waiting(nth: datetime | None, now: datetime) -> int | None:
    """Whole seconds until an address whose LIMIT-th last failure in the window was at
    `nth` may sign in again; None when it may now."""
    if nth is None:
        return None
    return max(1, math.ceil((nth + WINDOW - now).total_seconds()))


async def record_failure(db: AsyncSession, address: str) -> None:
    now = clock.now()
    await AuthFailureRepository(db).add(address, now, since=now - WINDOW, limit=LIMIT)


async def prune(db: AsyncSession) -> None:
    """Forget failures too old to count."""
    await AuthFailureRepository(db).prune(clock.now() - WINDOW)
