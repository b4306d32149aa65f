"""A component's `custom_id`: `<action>:<ref>`, where the ref is a row id."""

from __future__ import annotations


class UnsupportedComponent(Exception):
    """A custom_id this version cannot act on (unknown action, or a ref it can't read)."""


def split_custom_id(custom_id: str) -> tuple[str, str]:
    action, _, ref = custom_id.partition(":")
    return action, ref


def row_id(ref: str) -> int:
    """The row id in a ref; UnsupportedComponent for anything but a bigint's digits."""
    if not ref.isascii() or not ref.isdigit() or len(ref) > 18:
        raise UnsupportedComponent(ref)
    return int(ref)
