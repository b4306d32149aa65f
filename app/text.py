"""Free text from users, made safe to store: PostgreSQL text holds neither NUL nor lone
surrogates, and either would otherwise surface as a server error, not as the user's mistake."""

from __future__ import annotations

from app.errors import InvalidInput


def storable(value: str, what: str) -> str:
    if "\x00" in value:
        raise InvalidInput(f"The {what} contains a NUL character; remove it and try again.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"The {what} is not valid Unicode text.") from None
    return value
