"""Weekly allocations (hours planned per subject) and the week report against them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.clock import clock
from app.errors import InvalidInput
from app.limits import MAX_WEEKLY_HOURS
from app.repositories.allocations import AllocationRepository, WeekRow
from app.weeks import monday_of, week_bounds, week_start_for


@dataclass(frozen=True)
class WeekReport:
    week_start: date
    timezone: str
    rows: list[WeekRow]
    generated_at: datetime

    @property
    def total_allocated_seconds(self) -> int:
        return sum(row.allocated_seconds for row in self.rows)

    @property
    def total_tracked_seconds(self) -> int:
        return sum(row.tracked_seconds for row in self.rows)


def remaining_seconds(row: WeekRow) -> int:
    return max(0, row.allocated_seconds - row.tracked_seconds)


def _minutes(hours: float) -> int:
    if isinstance(hours, bool) or not math.isfinite(hours) or not 0 <= hours <= MAX_WEEKLY_HOURS:
        raise InvalidInput(f"Hours must be between 0 and {MAX_WEEKLY_HOURS}.")
    return round(hours * 60)


async def set_allocation(
    db: AsyncSession,
    user_id: str,
    subject: str,
    hours: float,
    *,
    week: date | None = None,
    username: str | None = None,
) -> WeekReport:
    """Plan `hours` for the subject in the given (default: current) week; 0 removes it."""
    minutes = _minutes(hours)
    user = await accounts.ensure_user(db, user_id, username)
    now = clock.now()
    week = week_start_for(user.timezone, now) if week is None else monday_of(week)
    repository = AllocationRepository(db)
    if minutes == 0:
        found = await accounts.existing_subject(db, user_id, subject)
        if found is not None:
            await repository.remove(user_id, found.id, week)
    else:
        created = await accounts.find_or_create_subject(db, user_id, subject)
        await repository.upsert(user_id, created.id, week, minutes, now)
    return await report_for(db, user_id, user.timezone, week, now)


async def week_report(db: AsyncSession, user_id: str, *, week: date | None = None) -> WeekReport:
    """The week's plan against what was tracked; `week` may be any day of it."""
    timezone = await accounts.timezone_of(db, user_id)
    now = clock.now()
    week = week_start_for(timezone, now) if week is None else monday_of(week)
    return await report_for(db, user_id, timezone, week, now)


async def report_for(
    db: AsyncSession, user_id: str, timezone: str, week: date, now: datetime
) -> WeekReport:
    """The report of the week starting on Monday `week`, for a user whose timezone is known."""
    start, end = week_bounds(timezone, week)
    rows = await AllocationRepository(db).week(user_id, week, start, end, now)
    return WeekReport(week_start=week, timezone=timezone, rows=list(rows), generated_at=now)


async def has_plan(db: AsyncSession, user_id: str, week: date) -> bool:
    """Whether anything is planned in the week of `week` (any day of it)."""
    return await AllocationRepository(db).count(user_id, monday_of(week)) > 0


@dataclass(frozen=True)
class CopiedPlan:
    report: WeekReport
    source: date
    copied: int
    kept: int


async def copy_plan(
    db: AsyncSession, user_id: str, source: date, *, username: str | None = None
) -> CopiedPlan:
    """Plan this week as the week of `source` was planned. Subjects already planned this
    week keep their hours, so a repeated copy changes nothing."""
    user = await accounts.ensure_user(db, user_id, username)
    now = clock.now()
    week = week_start_for(user.timezone, now)
    source = monday_of(source)
    repository = AllocationRepository(db)
    planned = await repository.count(user_id, source)
    copied = 0 if source == week else await repository.copy(user_id, source, week, now)
    report = await report_for(db, user_id, user.timezone, week, now)
    return CopiedPlan(report=report, source=source, copied=copied, kept=planned - copied)
