"""Free text from people and from other services: made safe to store, and shortened to fit."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from app.errors import InvalidInput

ELLIPSIS = "…"
# The error type of text refused by `StorableText`, for callers that tell it apart.
UNSTORABLE = "unstorable_text"


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


def _storable_field(value: str) -> str:
    try:
        return storable(value, "text")
    except InvalidInput as error:
        raise PydanticCustomError(UNSTORABLE, error.detail) from None


# A string field of a request or a payload that may reach the database: refused while the
# payload is read, so it is a bad request rather than a server error later on.
StorableText = Annotated[str, AfterValidator(_storable_field)]


def one_line(value: str) -> str:
    """Runs of whitespace, line breaks included, as single spaces; no spaces at the ends."""
    return " ".join(value.split())


def clip(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters, ending in an ellipsis when it was cut."""
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + ELLIPSIS
