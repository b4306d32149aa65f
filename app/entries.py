"""Time added by hand, and corrections of when an ended session ran.

A manual entry is a session that has already ended: `source = manual`, confirmed at once
(its author just said what happened). Its measured time is `ended_at - started_at`; its
effective time is that minus `paused_seconds`. The same rules hold when the start or end
of an ended session is corrected:

- the end comes after the start, and not after now;
- paused time is not negative and below the measured time;
- the span overlaps none of the user's other sessions (an active one runs until now).

The overlap check runs under the user's row lock, so two overlapping entries sent at
once give one success and one Conflict.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, timezones
from app import session as sessions
from app.clock import clock
from app.durations import MAX_DURATION_SECONDS, format_duration, parse_duration
from app.errors import Conflict, InvalidInput
from app.issues import IssueRef
from app.models import ACTIVE_STATUSES, Session, SessionSource, SessionStatus
from app.repositories.sessions import SessionRepository
from app.text import clip
from app.weeks import EARLIEST_DAY, parse_day


def _check_span(
    started_at: datetime, ended_at: datetime, paused_seconds: int, *, new: bool = False
) -> None:
    """InvalidInput unless the span obeys the rules; a new entry is also at most 24 hours."""
    for instant in (started_at, ended_at):
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise InvalidInput("Give times with their UTC offset, e.g. 2026-11-18T09:00:00+11:00.")
    if ended_at <= started_at:
        raise InvalidInput("The end must come after the start.")
    if started_at.date() < EARLIEST_DAY:
        raise InvalidInput(f"The start must be on or after {EARLIEST_DAY.isoformat()}.")
    if ended_at > clock.now():
        raise InvalidInput("The end is in the future; add time once it has happened.")
    measured = int((ended_at - started_at).total_seconds())
    if new and measured > MAX_DURATION_SECONDS:
        raise InvalidInput(
            f"One entry is at most {format_duration(MAX_DURATION_SECONDS)}; split longer work."
        )
    if isinstance(paused_seconds, bool) or paused_seconds < 0:
        raise InvalidInput("Paused time can't be negative.")
    if paused_seconds >= measured:
        raise InvalidInput("Paused time must be less than the time between start and end.")


def _whole_seconds(instant: datetime) -> datetime:
    # Every stored time is whole seconds, so durations agree between Python and SQL.
    return instant.replace(microsecond=0)


async def _refuse_overlap(
    db: AsyncSession,
    user_id: str,
    started_at: datetime,
    ended_at: datetime,
    *,
    excluding: int | None = None,
) -> None:
    found = await SessionRepository(db).first_overlapping(
        user_id, started_at, ended_at, clock.now(), excluding=excluding
    )
    if found is None:
        return
    # Said in the user's own time, as they typed theirs.
    tz = timezones.zone(await accounts.timezone_of(db, user_id))
    began = found.started_at.astimezone(tz)
    ended = None if found.ended_at is None else found.ended_at.astimezone(tz)
    if ended is None:
        until = "now"
    elif ended.date() == began.date():
        until = f"{ended:%H:%M}"
    else:
        until = f"{ended:%Y-%m-%d %H:%M}"
    raise Conflict(
        f"This overlaps session {found.id} ({found.subject.name}, {began:%Y-%m-%d %H:%M} to "
        f"{until}, {tz.key} time). Change the times or that session."
    )


async def add(
    db: AsyncSession,
    user_id: str,
    subject: str,
    started_at: datetime,
    ended_at: datetime,
    *,
    paused_seconds: int = 0,
    goal: str | None = None,
    issue: IssueRef | None = None,
    username: str | None = None,
) -> Session:
    """Record time worked earlier: an ended, confirmed session."""
    started_at, ended_at = _whole_seconds(started_at), _whole_seconds(ended_at)
    _check_span(started_at, ended_at, paused_seconds, new=True)
    goal = sessions.clean_goal(goal)
    await accounts.ensure_user(db, user_id, username)
    await _refuse_overlap(db, user_id, started_at, ended_at)
    found = await accounts.find_or_create_subject(db, user_id, subject)
    now = clock.now()
    values: dict[str, Any] = {
        "user_id": user_id,
        "subject_id": found.id,
        "started_at": started_at,
        "ended_at": ended_at,
        "goal": goal,
        "status": SessionStatus.ENDED_CONFIRMED,
        "total_paused_seconds": paused_seconds,
        "source": SessionSource.MANUAL,
        "created_at": now,
        "updated_at": now,
    }
    if issue is not None:
        values |= issue.columns()
    return await SessionRepository(db).add_ended(found, values)


async def move(
    db: AsyncSession,
    user_id: str,
    session_id: int,
    *,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> sessions.Outcome:
    """Correct when an ended session started or ended (either or both)."""
    session = await sessions.get_locked(db, user_id, session_id)
    if session.status in ACTIVE_STATUSES:
        raise Conflict("Clock out first, then correct the start or end.")
    assert session.ended_at is not None
    start = session.started_at if started_at is None else _whole_seconds(started_at)
    end = session.ended_at if ended_at is None else _whole_seconds(ended_at)
    if (start, end) == (session.started_at, session.ended_at):
        return sessions.Outcome(session, "The start and end are unchanged.")
    _check_span(start, end, session.total_paused_seconds)
    await _refuse_overlap(db, user_id, start, end, excluding=session.id)
    await SessionRepository(db).save(
        session, started_at=start, ended_at=end, updated_at=clock.now()
    )
    return sessions.Outcome(session)


# --- An entry as people describe it in chat: "1h 20m yesterday from 14:00" -------------

# Without a start, time added to an earlier day ends at the end of a working day.
END_OF_PAST_DAY = time(18, 0)
_CLOCK_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)


def _day(text: str | None, today: date) -> date:
    cleaned = (text or "").strip().lower()
    if cleaned in ("", "today"):
        return today
    if cleaned == "yesterday":
        return today - timedelta(days=1)
    day = parse_day(cleaned, "day")
    assert day is not None
    if day > today:
        raise InvalidInput("That day hasn't happened yet; add time once it has.")
    return day


def _clock_time(text: str) -> time:
    match = _CLOCK_TIME.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(f"Give the start as HH:MM, e.g. 14:30 (not {clip(text, 16)!r}).")
    return time(int(match[1]), int(match[2]))


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    # A time skipped by a DST change is read with the offset from before it, which lands
    # just after the change, as a person setting a watch would.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def described_span(
    duration: str, day: str | None, start: str | None, timezone: str, now: datetime
) -> tuple[datetime, datetime]:
    """The span of an entry given as a duration, a day (`YYYY-MM-DD`, `today`, `yesterday`;
    default today) and an optional local start time (`HH:MM`).

    Without a start it ends now, or at 18:00 on a past day.
    """
    seconds = parse_duration(duration)
    if seconds == 0:
        raise InvalidInput("A duration of nothing adds nothing; give one such as 1h 20m.")
    tz = timezones.zone(timezone)
    today = now.astimezone(tz).date()
    on = _day(day, today)
    length = timedelta(seconds=seconds)
    if start is not None and start.strip():
        begins = _local(on, _clock_time(start), tz)
        return begins, begins + length
    ends = now if on == today else _local(on, END_OF_PAST_DAY, tz)
    return ends - length, ends
