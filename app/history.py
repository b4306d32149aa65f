"""A user's past and present sessions as lists: filtered pages, and the CSV export.

Both read through `SessionRepository`'s filters; durations come from `app.timing`, the
one definition every front door shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, spreadsheet, timezones
from app.clock import clock
from app.durations import format_duration
from app.errors import InvalidInput
from app.limits import MAX_PAGE_SIZE
from app.models import Session, SessionStatus
from app.repositories.sessions import SessionFilter, SessionRepository
from app.spreadsheet import CsvExport, text_cell
from app.timing import session_times
from app.weeks import check_day, local_midnight

CSV_COLUMNS = (
    "id",
    "subject",
    "goal",
    "status",
    "source",
    "started_at",
    "ended_at",
    "timezone",
    "measured_seconds",
    "paused_seconds",
    "effective_seconds",
    "effective_hours",
    "effective",
    "note",
    "github_issue_url",
    "stop_reason",
)


@dataclass(frozen=True)
class SessionPage:
    """One page of sessions; `limit` is the page size actually used (capped)."""

    sessions: Sequence[Session]
    count: int
    limit: int
    offset: int


async def page(
    db: AsyncSession,
    user_id: str,
    *,
    status: SessionStatus | None = None,
    subject: str | None = None,
    active: bool | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SessionPage:
    """The user's sessions, newest first; `limit` is capped at MAX_PAGE_SIZE."""
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be at least 1 and offset at least 0.")
    limit = min(limit, MAX_PAGE_SIZE)
    where = SessionFilter(status=status, subject=subject, active=active)
    rows, count = await SessionRepository(db).page(user_id, where, limit=limit, offset=offset)
    return SessionPage(sessions=rows, count=count, limit=limit, offset=offset)


@dataclass(frozen=True)
class ReviewPage:
    """A few of the sessions waiting for review, oldest first; `total` counts them all."""

    sessions: Sequence[Session]
    total: int
    more: bool


async def awaiting_review(
    db: AsyncSession, user_id: str, *, after: int = 0, limit: int = 5
) -> ReviewPage:
    """The user's sessions waiting for review after session `after` (0: from the first)."""
    repository = SessionRepository(db)
    unconfirmed = SessionStatus.ENDED_UNCONFIRMED
    found = await repository.with_status_after(user_id, unconfirmed, after, limit + 1)
    total = (await repository.count_with_status([user_id], unconfirmed)).get(user_id, 0)
    return ReviewPage(sessions=found[:limit], total=total, more=len(found) > limit)


async def export_csv(
    db: AsyncSession, user_id: str, *, first_day: date | None = None, last_day: date | None = None
) -> CsvExport:
    """One row per session that started between the two days (inclusive, user's timezone)."""
    for day, name in ((first_day, "from"), (last_day, "to")):
        if day is not None:
            check_day(day, name)
    if first_day is not None and last_day is not None and last_day < first_day:
        raise InvalidInput("The 'to' day is before the 'from' day.")
    timezone = await accounts.timezone_of(db, user_id)
    tz = timezones.zone(timezone)
    where = SessionFilter(
        started_from=None if first_day is None else local_midnight(first_day, tz),
        started_before=None
        if last_day is None
        else local_midnight(last_day + timedelta(days=1), tz),
    )
    sessions = await SessionRepository(db).all_matching(user_id, where)
    now = clock.now()
    text = spreadsheet.write(CSV_COLUMNS, (_csv_row(s, tz, timezone, now) for s in sessions))
    return CsvExport(filename=_filename(first_day, last_day), text=text)


def _csv_row(session: Session, tz: ZoneInfo, timezone: str, now: datetime) -> list[str | int]:
    times = session_times(session, now)
    return [
        session.id,
        text_cell(session.subject.name),
        text_cell(session.goal),
        str(session.status),
        str(session.source),
        _local(session.started_at, tz),
        _local(session.ended_at, tz),
        timezone,
        times.measured,
        times.paused,
        times.effective,
        f"{times.effective / 3600:.2f}",
        format_duration(times.effective),
        text_cell(session.note),
        text_cell(session.github_issue_url),
        "" if session.stop_reason is None else str(session.stop_reason),
    ]


def _local(instant: datetime | None, tz: ZoneInfo) -> str:
    return "" if instant is None else instant.astimezone(tz).replace(microsecond=0).isoformat()


def _filename(first_day: date | None, last_day: date | None) -> str:
    if first_day is None and last_day is None:
        return "timetrack-sessions.csv"
    start = first_day.isoformat() if first_day else "start"
    end = last_day.isoformat() if last_day else "now"
    return f"timetrack-sessions-{start}-to-{end}.csv"
