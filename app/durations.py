"""Parsing and formatting the durations people type: `1h 20m`, `80m`, `1:20`, `4800s`."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from app.errors import InvalidInput
from app.text import clip, one_line

MAX_DURATION_SECONDS = 24 * 3600

# Unambiguous on purpose (never `[0-9]*\.?[0-9]+`): a long run of digits must not give the
# regex engine many ways to split it, or garbage input could make matching quadratic.
# ASCII only, because `\d` would also accept digits from other scripts.
_NUMBER = r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"

# One pattern for the three accepted shapes. Units must come in h, m, s order, which also
# rejects a repeated unit such as `1h 2h` without any bookkeeping.
_DURATION = re.compile(
    rf"""
      (?P<clock_h>[0-9]+) : (?P<clock_m>[0-9]{{2}}) (?: : (?P<clock_s>[0-9]{{2}}) )?
    | (?P<plain>{_NUMBER})
    | (?=[0-9.])  # every part below is optional, so insist on a first number
      (?: (?P<h>{_NUMBER}) \s* h \s* )?
      (?: (?P<m>{_NUMBER}) \s* m \s* )?
      (?: (?P<s>{_NUMBER}) \s* s )?
    """,
    re.VERBOSE | re.ASCII,
)

_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}

# No real duration is this long; refusing early keeps huge pastes away from int() (which
# refuses more than 4300 digits) and from Decimal overflow, so only InvalidInput escapes.
_MAX_INPUT_LENGTH = 64

# Echoing a whole paste back into a Discord message helps nobody.
_ECHO_LIMIT = 24


def parse_duration(text: str, *, max_seconds: int = MAX_DURATION_SECONDS) -> int:
    """Whole seconds for `text`; raises InvalidInput with a message listing the accepted forms."""
    cleaned = " ".join(text.split()).lower()
    if not cleaned:
        raise _invalid("Enter a duration", max_seconds)
    if len(cleaned) > _MAX_INPUT_LENGTH:
        raise _invalid(f"Couldn't read {_echo(text)} as a duration", max_seconds)

    match = _DURATION.fullmatch(cleaned)
    if match is None:
        if cleaned.startswith("-") and _DURATION.fullmatch(cleaned[1:].lstrip()):
            raise _invalid(f"A duration can't be negative ({_echo(text)})", max_seconds)
        raise _invalid(f"Couldn't read {_echo(text)} as a duration", max_seconds)
    fields = match.groupdict()

    if fields["clock_h"] is not None:
        minutes, seconds = int(fields["clock_m"]), int(fields["clock_s"] or 0)
        if minutes >= 60:
            raise _invalid(f"Minutes must be under 60 in {_echo(text)}", max_seconds)
        if seconds >= 60:
            raise _invalid(f"Seconds must be under 60 in {_echo(text)}", max_seconds)
        total = Decimal(int(fields["clock_h"]) * 3600 + minutes * 60 + seconds)
    elif fields["plain"] is not None:
        total = Decimal(fields["plain"]) * 60
    else:
        total = sum(
            (
                Decimal(fields[unit]) * factor
                for unit, factor in _UNIT_SECONDS.items()
                if fields[unit] is not None
            ),
            Decimal(0),
        )

    # Decimal keeps `1.1h` at exactly 3960 s, and rounds half up like people expect.
    rounded = int(total.to_integral_value(rounding=ROUND_HALF_UP))
    if rounded > max_seconds:
        raise _invalid(f"{_echo(text)} is too long", max_seconds)
    return rounded


def format_duration(seconds: int) -> str:
    """`1h 20m`, `2h`, `45m`, `30s` or `0m`; seconds are dropped once there is a whole minute."""
    if seconds < 0:
        raise ValueError(f"a duration can't be negative: {seconds}")
    if seconds == 0:
        return "0m"
    if seconds < 60:
        return f"{seconds}s"
    hours, minutes = divmod(seconds // 60, 60)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    return " ".join(parts)


def _invalid(problem: str, max_seconds: int) -> InvalidInput:
    return InvalidInput(f"{problem}. Try 1h 20m, 80m, 1:20 or 4800s (at most {_cap(max_seconds)}).")


def _cap(max_seconds: int) -> str:
    # format_duration drops stray seconds, which would understate an odd cap.
    if max_seconds >= 60 and max_seconds % 60:
        return f"{max_seconds}s"
    return format_duration(max(max_seconds, 0))


def _echo(text: str) -> str:
    return f"'{clip(one_line(text), _ECHO_LIMIT)}'"
