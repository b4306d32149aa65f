"""Weeks run Monday to Monday in the user's own timezone; these helpers turn them into UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import InvalidInput

# date.fromisoformat also takes `20261231` and `2026-W53-4` since 3.11; the API promises
# only YYYY-MM-DD, so anything else is refused before it gets there.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; unknown names raise InvalidInput."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        # ValueError covers names zoneinfo refuses outright, such as "" or "../etc".
        raise InvalidInput(
            f"'{name[:64]}' isn't a known timezone; use an IANA name such as Australia/Sydney."
        ) from exc


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
    return _first_instant(monday, tz), _first_instant(monday + timedelta(days=7), tz)


def parse_week(text: str) -> date:
    """The Monday of the week containing an ISO date `YYYY-MM-DD` (any day of that week)."""
    cleaned = text.strip()
    if _ISO_DATE.fullmatch(cleaned):
        try:
            return monday_of(date.fromisoformat(cleaned))
        except ValueError:
            pass
    raise InvalidInput(
        f"'{cleaned[:32]}' isn't a date; give any day of the week as YYYY-MM-DD, e.g. 2026-11-16."
    )


def _as_zone(timezone: str | ZoneInfo) -> ZoneInfo:
    return timezone if isinstance(timezone, ZoneInfo) else zone(timezone)


def _first_instant(day: date, tz: ZoneInfo) -> datetime:
    # fold=0 is the right reading of local midnight on both kinds of DST change:
    # - when clocks go back across midnight (Asia/Jerusalem, 2002-10-07), 00:00 happens twice
    #   and fold=0 is the first time, so no session from that first hour is lost;
    # - when clocks jump forward at midnight (Asia/Tehran, 2021-03-22: 00:00 becomes 01:00),
    #   00:00 never happens and fold=0 reads it with the offset from before the jump, which
    #   lands exactly on the jump, the first instant that has the new date.
    # A gap that began before midnight and ran past it would break this; a scan of every
    # zone's Mondays from 1970 to 2040 in tzdata found none.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
