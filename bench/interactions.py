"""Signed Discord interactions as Discord sends them, built fast enough for a load generator.

Every interaction gets a fresh snowflake id: the endpoint records ids to answer a repeat
as the first time, so a reused id would measure the idempotency path instead of the work.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from nacl.signing import SigningKey

APPLICATION_ID = "1100000000000000001"
GUILD_ID = "1200000000000000002"
CHANNEL_ID = "1300000000000000003"
CARD_MESSAGE_ID = "1700000000000000007"

_ids = itertools.count(1_800_000_000_000_000_000 + (time.time_ns() // 1000) % 10**12)


def snowflake() -> str:
    return str(next(_ids))


class Signer:
    """Signs bodies the way Discord does: Ed25519 over timestamp + body."""

    def __init__(self, key: SigningKey | None = None) -> None:
        self.key = key or SigningKey.generate()

    @property
    def public_hex(self) -> str:
        return bytes(self.key.verify_key).hex()

    def headers(self, body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        signature = self.key.sign(stamp.encode() + body).signature.hex()
        return {
            "X-Signature-Ed25519": signature,
            "X-Signature-Timestamp": stamp,
            "Content-Type": "application/json",
        }

    def sign(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return body, self.headers(body)


def _base(kind: int, user_id: str) -> dict[str, Any]:
    interaction_id = snowflake()
    return {
        "id": interaction_id,
        "application_id": APPLICATION_ID,
        "type": kind,
        "token": f"bench-token-{interaction_id}",
        "version": 1,
        "guild_id": GUILD_ID,
        "channel_id": CHANNEL_ID,
        "locale": "en-GB",
        "member": {
            "user": {
                "id": user_id,
                "username": f"bench{user_id[-4:]}",
                "global_name": None,
                "discriminator": "0",
                "avatar": None,
            },
            "roles": [],
            "permissions": "2248473465835073",
        },
    }


def ping() -> dict[str, Any]:
    return {
        "id": snowflake(),
        "application_id": APPLICATION_ID,
        "type": 1,
        "token": "t",
        "version": 1,
    }


def command(path: str, user_id: str, **values: Any) -> dict[str, Any]:
    """`command("session in", user, subject="x")`: a slash command with its options."""
    names = path.split()
    leaves = [{"name": n, "type": 3, "value": v} for n, v in values.items()]
    options: list[dict[str, Any]] = (
        [{"name": names[1], "type": 1, "options": leaves}] if len(names) > 1 else leaves
    )
    body = _base(2, user_id)
    body["data"] = {"id": snowflake(), "name": names[0], "type": 1, "options": options}
    return body


def _card_message() -> dict[str, Any]:
    return {"id": CARD_MESSAGE_ID, "channel_id": CHANNEL_ID, "type": 20, "content": ""}


def click(custom_id: str, user_id: str) -> dict[str, Any]:
    body = _base(3, user_id)
    body["data"] = {"custom_id": custom_id, "component_type": 2}
    body["message"] = _card_message()
    return body


def submit(custom_id: str, values: dict[str, str], user_id: str) -> dict[str, Any]:
    """A modal submitted from a card: each text input inside a Label (type 18)."""
    body = _base(5, user_id)
    body["data"] = {
        "custom_id": custom_id,
        "components": [
            {"type": 18, "id": 2 * i + 1, "component": {"type": 4, "custom_id": k, "value": v}}
            for i, (k, v) in enumerate(values.items())
        ],
    }
    body["message"] = _card_message()
    return body
