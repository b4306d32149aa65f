"""Weekly summaries: last week's plan against what was tracked, sent on Monday morning.

A user with `weekly_summary` on gets, at the first tick on or after Monday 08:00 in their
timezone, the week report of the week that just ended and how many sessions wait for
their review. A week with nothing planned and nothing tracked sends nothing.

`users.next_summary_at` is when the next one is due. NULL means "work it out at the next
tick": a new user, a new timezone, or summaries turned back on. That tick then sends last
week's summary if it is due and was not sent yet (the record of sent messages has the
final say), and sets the next Monday 08:00.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, allocation
from app.allocation import WeekReport
from app.models import SessionStatus, User
from app.repositories.sessions import SessionRepository
from app.repositories.users import UserRepository
from app.weeks import summary_time, week_start_for


@dataclass(frozen=True)
class WeeklySummary:
    user_id: str
    report: WeekReport
    awaiting_review: int

    @property
    def key(self) -> str:
        """Once per user and week: the week's Monday."""
        return self.report.week_start.isoformat()


async def set_weekly_summary(
    db: AsyncSession, user_id: str, on: bool, *, username: str | None = None
) -> User:
    user = await accounts.ensure_user(db, user_id, username)
    # Turned back on, it is due again from now on: the next tick works out when.
    await UserRepository(db).set_weekly_summary(user, on)
    return user


async def _last_week(
    db: AsyncSession, user: User, now: datetime
) -> tuple[datetime, WeekReport | None]:
    """Decide for one locked user whose summary is due (or unknown): when the next one is
    due, and last week's report, or None when nothing is to be sent."""
    this_week = week_start_for(user.timezone, now)
    due = summary_time(user.timezone, this_week)
    if now < due:
        # Monday before 08:00: last week's summary is due later today.
        return due, None
    next_due = summary_time(user.timezone, this_week + timedelta(days=7))
    report = await allocation.report_for(
        db, user.id, user.timezone, this_week - timedelta(days=7), now
    )
    return next_due, report if report.rows else None


async def take_due(db: AsyncSession, now: datetime, limit: int) -> Sequence[WeeklySummary]:
    """The summaries due at `now` for at most `limit` users, oldest due first; each user's
    next one is set in this transaction, in which the caller records the messages.

    As with reminders, candidates come from the index without locks; their rows are then
    locked in lock order and checked again, so a concurrent tick or a change of settings
    in between is seen as it is.
    """
    repository = UserRepository(db)
    candidates = await repository.summary_due(now, limit)
    if not candidates:
        return []
    reports = []
    # The users' new due times go out as one statement at the end, rather than one UPDATE
    # before each report's query.
    next_due: list[tuple[str, datetime]] = []
    for user in await repository.lock_many(accounts.in_lock_order(candidates)):
        still_due = user.next_summary_at is None or user.next_summary_at <= now
        if user.weekly_summary and still_due:
            due, report = await _last_week(db, user, now)
            next_due.append((user.id, due))
            if report is not None:
                reports.append((user.id, report))
    await repository.set_next_summaries(next_due)
    if not reports:
        return []
    waiting = await SessionRepository(db).count_with_status(
        [user_id for user_id, _ in reports], SessionStatus.ENDED_UNCONFIRMED
    )
    return [
        WeeklySummary(user_id=user_id, report=report, awaiting_review=waiting.get(user_id, 0))
        for user_id, report in reports
    ]
