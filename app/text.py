"""Free text from people and from other services: made safe to store, and shortened to fit."""

from __future__ import annotations

from app.errors import InvalidInput

ELLIPSIS = "…"


def storable(value: str, what: str) -> str:
    """`value`, unless PostgreSQL could not store it.

    A `text` column holds neither NUL nor lone surrogates, and either would otherwise
    surface as a server error rather than as the user's mistake.
    """
    if "\x00" in value:
        raise InvalidInput(f"The {what} contains a NUL character; remove it and try again.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"The {what} is not valid Unicode text.") from None
    return value


def one_line(value: str) -> str:
    """Runs of whitespace, line breaks included, as single spaces; no spaces at the ends."""
    return " ".join(value.split())


def clip(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters, ending in an ellipsis when it was cut."""
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + ELLIPSIS
