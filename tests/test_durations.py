"""Duration grammar: parsing, messages, formatting and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.durations import (
    MAX_DURATION_SECONDS,
    format_duration,
    parse_duration,
)
from app.errors import InvalidInput

FORMS = ("1h 20m", "80m", "1:20", "4800s")


@pytest.mark.parametrize("text", FORMS)
def test_seed_examples_all_mean_eighty_minutes(text: str) -> None:
    assert parse_duration(text) == 4800


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h20m", 4800),
        ("1.5h", 5400),
        (".5h", 1800),
        ("1.1h", 3960),
        ("0.5s", 1),
        ("1:20:30", 4830),
        ("0:45", 2700),
        ("80", 4800),
        ("1.5", 90),
        ("0", 0),
        ("0m", 0),
        ("1h 30s", 3630),
        ("20m 30s", 1230),
        ("24h", MAX_DURATION_SECONDS),
        ("24:00", MAX_DURATION_SECONDS),
    ],
)
def test_other_accepted_forms(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["  1H  20M ", "1H20M", "\t1h\n20m", "1 h 20 m", " 80M", "4800S ", " 1:20 ", " 80 "],
)
def test_case_and_whitespace_are_ignored(text: str) -> None:
    assert parse_duration(text) == 4800


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter a duration"),
        ("   ", "Enter a duration"),
        ("abc", "Couldn't read 'abc'"),
        ("1:75", "Minutes must be under 60"),
        ("1:20:75", "Seconds must be under 60"),
        ("-5", "can't be negative"),
        ("-1h 20m", "can't be negative"),
        ("25h", "'25h' is too long"),
        ("24:00:01", "is too long"),
        ("5d", "Couldn't read '5d'"),
        ("1h 2h", "Couldn't read '1h 2h'"),
        ("1:2:3:4", "Couldn't read '1:2:3:4'"),
        ("1:5", "Couldn't read"),
        ("nan", "Couldn't read"),
        ("NaN", "Couldn't read"),
        ("inf", "Couldn't read"),
        ("-inf", "Couldn't read"),
        ("1e3", "Couldn't read"),
        ("1h20", "Couldn't read"),
        ("h", "Couldn't read"),
        ("1.h", "Couldn't read"),
        ("-", "Couldn't read"),
        ("٣m", "Couldn't read"),
        ("9" * 200, "Couldn't read"),
    ],
)
def test_rejections_say_what_was_wrong(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration(text)
    assert problem in caught.value.detail


def test_message_lists_the_accepted_forms_and_the_cap() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration("abc")
    message = caught.value.detail
    assert message == (
        "Couldn't read 'abc' as a duration. Try 1h 20m, 80m, 1:20 or 4800s (at most 24h)."
    )
    for form in FORMS:
        assert form in message


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration("x" * 500)
    assert len(caught.value.detail) < 120


@pytest.mark.parametrize(
    ("max_seconds", "cap"),
    [(8 * 3600, "8h"), (90 * 60, "1h 30m"), (90, "90s"), (45, "45s")],
)
def test_message_reflects_a_custom_cap(max_seconds: int, cap: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration("9h", max_seconds=max_seconds)
    assert f"(at most {cap})." in caught.value.detail


def test_custom_cap_is_inclusive() -> None:
    assert parse_duration("8h", max_seconds=8 * 3600) == 8 * 3600
    assert parse_duration("1m 30s", max_seconds=90) == 90


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0m"),
        (1, "1s"),
        (30, "30s"),
        (59, "59s"),
        (60, "1m"),
        (90, "1m"),
        (2700, "45m"),
        (3600, "1h"),
        (7200, "2h"),
        (4800, "1h 20m"),
        (4859, "1h 20m"),
        (MAX_DURATION_SECONDS, "24h"),
        (26 * 3600 + 5 * 60, "26h 5m"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00"),
        (59, "00:00:59"),
        (4830, "01:20:30"),
        (MAX_DURATION_SECONDS, "24:00:00"),
    ],
)
def test_an_hours_minutes_seconds_clock_parses_exactly(seconds: int, text: str) -> None:
    assert parse_duration(text) == seconds


def test_formatting_refuses_negative_seconds() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)


@given(st.text())
def test_parser_only_ever_raises_invalid_input(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except InvalidInput as exc:
        assert "Try 1h 20m, 80m, 1:20 or 4800s" in exc.detail
    else:
        assert 0 <= seconds <= MAX_DURATION_SECONDS


@given(st.text(alphabet="0123456789.:hmsHMS -\t", max_size=20))
def test_parser_only_ever_raises_invalid_input_on_near_misses(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except InvalidInput:
        return
    assert 0 <= seconds <= MAX_DURATION_SECONDS


@given(st.integers(min_value=60, max_value=MAX_DURATION_SECONDS))
def test_format_then_parse_round_trips_to_the_minute(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds - seconds % 60


@given(st.integers(min_value=1, max_value=59))
def test_seconds_under_a_minute_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
