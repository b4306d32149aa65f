"""Days and weeks in the user's own timezone, as UTC instants; weeks run Monday to Monday.

Also the one reading of a day typed as `YYYY-MM-DD`, for every front door.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app import timezones
from app.errors import InvalidInput

# date.fromisoformat also takes `20261231` and `2026-W53-4` since 3.11; the API promises
# only YYYY-MM-DD, so anything else is refused before it gets there.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

# Far enough for any real history, near enough that local midnights never overflow datetime.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9000, 12, 31)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_start_for(timezone: str | ZoneInfo, instant: datetime) -> date:
    """The local Monday of the week that contains `instant` in `timezone`."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("week_start_for needs a timezone-aware datetime")
    return monday_of(instant.astimezone(_as_zone(timezone)).date())


def week_bounds(timezone: str | ZoneInfo, week_start: date) -> tuple[datetime, datetime]:
    """UTC instants of local Monday 00:00 of that week and of the Monday after (end exclusive)."""
    tz = _as_zone(timezone)
    monday = monday_of(week_start)
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


# Weekly summaries go out on Monday at this local time, once the week before is over.
SUMMARY_TIME = time(8)


def summary_time(timezone: str | ZoneInfo, week_start: date) -> datetime:
    """The UTC instant of 08:00 on the Monday that starts the week, in `timezone`: when the
    summary of the week before is due."""
    tz = _as_zone(timezone)
    # 08:00 on a Monday always exists, once: a scan of every zone's Mondays from 1970 to
    # 2040 in tzdata found no clock change at that hour.
    return datetime.combine(monday_of(week_start), SUMMARY_TIME, tzinfo=tz).astimezone(UTC)


def check_day(day: date, name: str) -> date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(
            f"{name} must be between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."
        )
    return day


def parse_day(text: str | None, name: str) -> date | None:
    """A day written `YYYY-MM-DD` (`name` says which, in the error); empty means none."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if _ISO_DATE.fullmatch(cleaned):
        try:
            return check_day(date.fromisoformat(cleaned), name)
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be a date written YYYY-MM-DD, e.g. 2026-11-16.")


def parse_week(text: str | None) -> date | None:
    """The Monday of the week containing a day written `YYYY-MM-DD`; empty means none."""
    day = parse_day(text, "week")
    return None if day is None else monday_of(day)


def _as_zone(timezone: str | ZoneInfo) -> ZoneInfo:
    return timezone if isinstance(timezone, ZoneInfo) else timezones.zone(timezone)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz`."""
    # fold=0 is the right reading of local midnight on both kinds of DST change:
    # - when clocks go back across midnight (Asia/Jerusalem, 2002-10-07), 00:00 happens twice
    #   and fold=0 is the first time, so no session from that first hour is lost;
    # - when clocks jump forward at midnight (Asia/Tehran, 2021-03-22: 00:00 becomes 01:00),
    #   00:00 never happens and fold=0 reads it with the offset from before the jump, which
    #   lands exactly on the jump, the first instant that has the new date.
    # A gap that began before midnight and ran past it would break this; a scan of every
    # zone's Mondays from 1970 to 2040 in tzdata found none.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
