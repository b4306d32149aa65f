"""Long-running reminders: asking a session's owner "Still working on …?".

Each user chooses `remind_after_minutes` (1 to 1440; None turns reminders off). A session
carries `remind_at`, the instant its owner is next asked:

- at clock-in, `started_at + remind_after_minutes` (None when reminders are off);
- None once the reminder is recorded, so pausing, resuming or another tick never repeat it;
- `now + remind_after_minutes` after "Keep going", or a reopen (the owner is plainly there);
- recomputed for the active session when the setting changes.

The tick finds due sessions through the partial index on `remind_at` (active sessions still
to be reminded), so its cost follows the reminders due, not the sessions stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.clock import clock
from app.durations import format_duration, parse_duration
from app.errors import InvalidInput
from app.limits import REMIND_AFTER_MAX_MINUTES
from app.models import Session, User
from app.repositories.sessions import SessionRepository
from app.repositories.users import UserRepository

OFF_WORDS = frozenset({"off", "none", "never", "no"})


def check_minutes(minutes: int | None) -> int | None:
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not 1 <= minutes <= REMIND_AFTER_MAX_MINUTES:
        raise InvalidInput(
            f"Reminders come after 1 to {REMIND_AFTER_MAX_MINUTES} minutes "
            f"({format_duration(REMIND_AFTER_MAX_MINUTES * 60)}); or turn them off."
        )
    return minutes


def parse_minutes(text: str) -> int | None:
    """`off`, or a duration as people type it (`90`, `1h 30m`, `1:30`), in whole minutes."""
    cleaned = text.strip().lower()
    if cleaned in OFF_WORDS:
        return None
    seconds = parse_duration(cleaned, max_seconds=REMIND_AFTER_MAX_MINUTES * 60)
    return check_minutes((seconds + 30) // 60)


def after(instant: datetime, minutes: int | None) -> datetime | None:
    """When to remind, counting `minutes` from `instant`; None when reminders are off."""
    return None if minutes is None else instant + timedelta(minutes=minutes)


def rescheduled(session: Session, minutes: int | None, now: datetime) -> datetime | None:
    """The active session's next reminder under a new setting: `minutes` after its start
    while that is still ahead; otherwise `minutes` from now, because whoever just changed
    the setting is evidently still there."""
    due = after(session.started_at, minutes)
    if due is None or due > now:
        return due
    return after(now, minutes)


async def set_remind_after(
    db: AsyncSession, user_id: str, minutes: int | None, *, username: str | None = None
) -> User:
    """Change the setting, and the active session's next reminder with it."""
    minutes = check_minutes(minutes)
    user = await accounts.ensure_user(db, user_id, username)
    if user.remind_after_minutes == minutes:
        return user
    await UserRepository(db).set_remind_after(user, minutes)
    repository = SessionRepository(db)
    active = await repository.active_for(user_id)
    if active is not None:
        await repository.save(active, remind_at=rescheduled(active, minutes, clock.now()))
    return user


@dataclass(frozen=True)
class DueReminder:
    session: Session
    due_at: datetime

    @property
    def key(self) -> str:
        """One reminder per session per period: the period is the instant it fell due."""
        return f"{self.session.id}@{self.due_at.isoformat()}"


async def take_due(db: AsyncSession, now: datetime, limit: int) -> Sequence[DueReminder]:
    """The reminders due at `now` (at most `limit`), each recorded as taken: the caller
    records the message in the same transaction, or everything rolls back together.

    Candidates are read without locks, then their owners are locked (in lock order) and
    their sessions read again: under the lock, a session that was clocked out, snoozed or
    reminded by a concurrent tick in between is seen as it is now.
    """
    repository = SessionRepository(db)
    owners = await repository.reminder_owners_due(now, limit)
    if not owners:
        return []
    await UserRepository(db).lock_many(accounts.in_lock_order(owners))
    due = [
        DueReminder(session, session.remind_at)
        for session in await repository.active_for_users(owners)
        if session.remind_at is not None and session.remind_at <= now
    ]
    await repository.clear_reminders([reminder.session for reminder in due])
    return due
