"""Week boundaries in the user's timezone, across DST changes and the date line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import InvalidInput
from app.timezones import zone
from app.weeks import monday_of, parse_week, week_bounds, week_start_for

SYDNEY = ZoneInfo("Australia/Sydney")
HOUR = timedelta(hours=1)


def sydney(year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SYDNEY, fold=fold)


def test_sydney_april_2026_week_has_169_hours() -> None:
    # Clocks go back 03:00 → 02:00 on Sunday 5 April 2026 (AEDT +11 → AEST +10).
    monday = week_start_for(SYDNEY, sydney(2026, 4, 5, 12, 0))
    assert monday == date(2026, 3, 30)
    start, end = week_bounds(SYDNEY, monday)
    assert start == datetime(2026, 3, 29, 13, 0, tzinfo=UTC)
    assert end == datetime(2026, 4, 5, 14, 0, tzinfo=UTC)
    assert end - start == 169 * HOUR


def test_sydney_october_2026_week_has_167_hours() -> None:
    # Clocks go forward 02:00 → 03:00 on Sunday 4 October 2026 (AEST +10 → AEDT +11).
    monday = week_start_for(SYDNEY, sydney(2026, 10, 4, 12, 0))
    assert monday == date(2026, 9, 28)
    start, end = week_bounds(SYDNEY, monday)
    assert start == datetime(2026, 9, 27, 14, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 4, 13, 0, tzinfo=UTC)
    assert end - start == 167 * HOUR


def test_the_repeated_hour_belongs_to_the_week_it_happens_in() -> None:
    first = sydney(2026, 4, 5, 2, 30, fold=0)
    second = sydney(2026, 4, 5, 2, 30, fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == HOUR
    assert week_start_for(SYDNEY, first) == week_start_for(SYDNEY, second) == date(2026, 3, 30)


@pytest.mark.parametrize(("month", "sunday"), [(4, 5), (10, 4)])
def test_late_sunday_and_early_monday_fall_either_side_of_the_boundary(
    month: int, sunday: int
) -> None:
    late_sunday = sydney(2026, month, sunday, 23, 30)
    early_monday = late_sunday + timedelta(hours=1)
    assert early_monday.astimezone(SYDNEY).hour == 0

    previous_monday = date(2026, month, sunday) - timedelta(days=6)
    assert week_start_for(SYDNEY, late_sunday) == previous_monday
    assert week_start_for(SYDNEY, early_monday) == date(2026, month, sunday + 1)

    _, end = week_bounds(SYDNEY, previous_monday)
    assert late_sunday.astimezone(UTC) < end <= early_monday.astimezone(UTC)


def test_new_year_2026_2027_is_one_week() -> None:
    thursday = sydney(2026, 12, 31, 18, 0)
    friday = sydney(2027, 1, 1, 9, 0)
    assert week_start_for(SYDNEY, thursday) == date(2026, 12, 28)
    assert week_start_for(SYDNEY, friday) == date(2026, 12, 28)
    start, end = week_bounds("Australia/Sydney", date(2026, 12, 28))
    assert end - start == 168 * HOUR
    assert start <= thursday < friday < end


def test_the_same_instant_is_in_different_weeks_across_the_date_line() -> None:
    # 20:00 UTC on Sunday 15 November 2026 is 10:00 Sunday in Honolulu (UTC−10)
    # and already 10:00 Monday 16 November on Kiritimati (UTC+14).
    instant = datetime(2026, 11, 15, 20, 0, tzinfo=UTC)
    assert week_start_for("Pacific/Honolulu", instant) == date(2026, 11, 9)
    assert week_start_for("Pacific/Kiritimati", instant) == date(2026, 11, 16)

    honolulu_start, honolulu_end = week_bounds("Pacific/Honolulu", date(2026, 11, 9))
    kiritimati_start, kiritimati_end = week_bounds("Pacific/Kiritimati", date(2026, 11, 16))
    assert honolulu_start <= instant < honolulu_end
    assert kiritimati_start <= instant < kiritimati_end
    # Kiritimati's week begins a full day before Honolulu's week of the same date.
    assert week_bounds("Pacific/Honolulu", date(2026, 11, 16))[0] - kiritimati_start == 24 * HOUR


def test_week_bounds_accepts_any_day_of_the_week() -> None:
    assert week_bounds(SYDNEY, date(2026, 11, 19)) == week_bounds(SYDNEY, date(2026, 11, 16))


def test_monday_midnight_that_never_happens_starts_the_week_at_the_jump() -> None:
    # Asia/Tehran went from 00:00 straight to 01:00 on Monday 22 March 2021.
    start, end = week_bounds("Asia/Tehran", date(2021, 3, 22))
    assert start == datetime(2021, 3, 21, 20, 30, tzinfo=UTC)
    assert (start - timedelta(seconds=1)).astimezone(ZoneInfo("Asia/Tehran")).day == 21
    assert start.astimezone(ZoneInfo("Asia/Tehran")).replace(tzinfo=None) == datetime(
        2021, 3, 22, 1, 0
    )
    assert end - start == 167 * HOUR


def test_monday_midnight_that_happens_twice_starts_the_week_at_the_first() -> None:
    # Asia/Jerusalem went from 01:00 back to 00:00 on Monday 7 October 2002.
    start, end = week_bounds("Asia/Jerusalem", date(2002, 10, 7))
    assert start == datetime(2002, 10, 6, 21, 0, tzinfo=UTC)
    assert (start - timedelta(seconds=1)).astimezone(ZoneInfo("Asia/Jerusalem")).day == 6
    assert end - start == 169 * HOUR


ZONES = [
    "UTC",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Tehran",
    "Asia/Jerusalem",
    "America/Santiago",
    "America/Havana",
    "America/New_York",
    "Europe/London",
    "Pacific/Honolulu",
    "Pacific/Kiritimati",
    "Pacific/Chatham",
]


@given(
    st.sampled_from(ZONES),
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_instant_lies_in_the_bounds_of_its_own_week(name: str, instant: datetime) -> None:
    monday = week_start_for(name, instant)
    assert monday.weekday() == 0
    start, end = week_bounds(name, monday)
    assert start <= instant < end
    assert timedelta(hours=166) <= end - start <= timedelta(hours=170)
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC
    assert week_bounds(name, monday + timedelta(days=7))[0] == end


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        week_start_for(SYDNEY, datetime(2026, 11, 16, 9, 0))


def test_other_offsets_are_converted_to_the_users_zone() -> None:
    # 23:00 Sunday in UTC−05 is Monday morning in Sydney.
    new_york_evening = datetime(2026, 11, 15, 23, 0, tzinfo=ZoneInfo("America/New_York"))
    assert week_start_for(SYDNEY, new_york_evening) == date(2026, 11, 16)
    assert week_start_for("America/New_York", new_york_evening) == date(2026, 11, 9)


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 11, 16), date(2026, 11, 16)),
        (date(2026, 11, 22), date(2026, 11, 16)),
        (date(2027, 1, 3), date(2026, 12, 28)),
        (date(2028, 3, 1), date(2028, 2, 28)),
    ],
)
def test_monday_of(day: date, monday: date) -> None:
    assert monday_of(day) == monday


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-11-16", date(2026, 11, 16)),
        ("2026-11-22", date(2026, 11, 16)),
        (" 2026-12-31 ", date(2026, 12, 28)),
        ("2027-01-01", date(2026, 12, 28)),
        ("2028-02-29", date(2028, 2, 28)),
    ],
)
def test_parse_week(text: str, monday: date) -> None:
    assert parse_week(text) == monday


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow",
        "2026-02-30",
        "2026-13-01",
        "20261116",
        "2026-W47-1",
        "16/11/2026",
        "2026-1-5",
        "２０２６-11-16",
    ],
)
def test_parse_week_rejects_anything_but_iso_dates(text: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_week(text)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_no_week_given_means_none(text: str | None) -> None:
    assert parse_week(text) is None


def test_zone_names() -> None:
    assert zone("Australia/Sydney") == SYDNEY
    for bad in ["Mars/Olympus", "", "../etc/passwd", "America", "localtime", "Factory"]:
        with pytest.raises(InvalidInput, match="IANA"):
            zone(bad)
    with pytest.raises(InvalidInput):
        week_start_for("Not/AZone", datetime(2026, 1, 1, tzinfo=UTC))
