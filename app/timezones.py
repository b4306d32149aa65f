"""Timezones: which names are real IANA zones, and how to read one.

The one rule, for settings, users and weeks alike: a name from the tz database that is a
place's zone. The database also ships `localtime`, `Factory` and `posixrules`, which
`zoneinfo` loads but which name no place (`localtime` is whatever the server's clock is
set to), so they are refused like any other unknown name.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from app.errors import InvalidInput

NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _names() -> tuple[str, ...]:
    # Reading the tz database takes a while; do it once, and only when first needed.
    return tuple(sorted(available_timezones() - NOT_PLACES))


@cache
def _name_set() -> frozenset[str]:
    return frozenset(_names())


def validate(name: str) -> str:
    """The IANA name, trimmed; InvalidInput naming the mistake otherwise."""
    name = name.strip()
    if name not in _name_set():
        raise InvalidInput(
            f"{name[:64]!r} is not a timezone I know. Use an IANA name such as Australia/Sydney."
        )
    return name


def zone(name: str) -> ZoneInfo:
    """The zone of a valid name (see `validate`)."""
    return ZoneInfo(validate(name))


def names(prefix: str = "", limit: int = 25) -> list[str]:
    """Names containing `prefix` (any case), those starting with it first, for autocomplete."""
    wanted = prefix.strip().lower().replace(" ", "_")
    found = [name for name in _names() if wanted in name.lower()]
    found.sort(key=lambda name: (not name.lower().startswith(wanted), name))
    return found[:limit]
