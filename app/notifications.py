"""The record of scheduled messages (reminders, weekly summaries) and their delivery.

A message is recorded, with a key unique per user and kind, in the same transaction that
decides to send it: two ticks at once, or one repeated, record it once and so send it
once. It is recorded as `sending`, claimed by the tick that recorded it, which sends it
after the commit and then settles it:

- `sent` once Discord took it;
- `pending` when the attempt failed: the next tick tries again, up to MAX_ATTEMPTS in all;
- `failed` after the last attempt (health counts these), or when it is a reminder about a
  session that has ended since.

A tick that dies between claiming and settling leaves rows `sending`; after STUCK_AFTER a
later tick claims them again. Delivery is therefore at least once, and Discord's nonce
check (see `server.notify`) turns a repeat within minutes into the same message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.models import NotificationKind
from app.repositories.notifications import NotificationRepository

MAX_ATTEMPTS = 3
# Sending a batch takes at most a few tens of seconds (server.notify's budget); a claim
# this old belongs to a tick that died.
STUCK_AFTER = timedelta(minutes=2)
# Long enough that no key could come back: a summary's key is at most two weeks old when
# it is looked at, a reminder's session is stale after a day.
RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Draft:
    """A message the scheduler decided on, rendered, not yet recorded."""

    user_id: str
    kind: NotificationKind
    key: str
    message: dict[str, Any]
    session_id: int | None = None


@dataclass(frozen=True)
class Claim:
    """A message this tick is to send now."""

    id: int
    user_id: str
    message: dict[str, Any]


async def record(db: AsyncSession, drafts: Sequence[Draft]) -> list[Claim]:
    """Record messages to send after this transaction commits, in one statement. Those
    recorded before (sent, or being sent, by whoever recorded them) are left out."""
    if not drafts:
        return []
    found = await NotificationRepository(db).add_all(drafts, at=clock.now())
    return [
        Claim(found[(draft.user_id, draft.kind, draft.key)], draft.user_id, draft.message)
        for draft in drafts
        if (draft.user_id, draft.kind, draft.key) in found
    ]


async def claim_retries(db: AsyncSession, limit: int) -> list[Claim]:
    now = clock.now()
    repository = NotificationRepository(db)
    await repository.give_up_on_ended_sessions(now - STUCK_AFTER, now)
    rows = await repository.claim_retries(now - STUCK_AFTER, now, limit)
    return [Claim(row.id, row.user_id, dict(row.message)) for row in rows]


async def settle(db: AsyncSession, outcomes: Mapping[int, bool | None]) -> None:
    """Record each claimed message as delivered (True), failed (False) or not tried (None:
    the batch ran out of time)."""

    def having(result: bool | None) -> Sequence[int]:
        return [claim_id for claim_id, outcome in outcomes.items() if outcome is result]

    await NotificationRepository(db).settle(
        sent=having(True),
        failed=having(False),
        untried=having(None),
        max_attempts=MAX_ATTEMPTS,
        at=clock.now(),
    )


async def prune(db: AsyncSession) -> int:
    """Forget settled messages after RETENTION."""
    return await NotificationRepository(db).prune(clock.now() - RETENTION)
