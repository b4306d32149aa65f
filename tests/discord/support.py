"""Signing, realistic interaction payloads, and Discord's own schemas for what we send back.

Payload shapes follow Discord's "Receiving and Responding" documentation: a guild
interaction carries `member.user`, a DM carries `user`; components carry `message`;
modal submissions carry Label components (type 18) holding the text input.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from nacl.signing import SigningKey
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.fixtures import DISCORD_SPEC

SPEC_FILE = "discord/openapi.json"
SPEC_URI = "urn:discord:openapi"
CALLBACK_SCHEMA = (
    "#/paths/~1interactions~1{interaction_id}~1{interaction_token}~1callback"
    "/post/requestBody/content/application~1json/schema"
)
COMMANDS_SCHEMA = (
    "#/paths/~1applications~1{application_id}~1commands"
    "/put/requestBody/content/application~1json/schema"
)

APP_ID = "1100000000000000001"
GUILD_ID = "1200000000000000002"
CHANNEL_ID = "1300000000000000003"
ALICE = "1400000000000000004"
BOB = "1500000000000000005"
USERNAMES = {ALICE: "alice", BOB: "bob"}
API_BASE = "https://discord.test/api/v10"

_ids = itertools.count(1_600_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


def _spec_path() -> Path:
    return DISCORD_SPEC


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    spec = json.loads(_spec_path().read_text())
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


@lru_cache(maxsize=4)
def validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": SPEC_URI + pointer}, registry=_registry())


def assert_callback(body: Any) -> None:
    """The body is a valid interaction callback, as Discord's spec describes it."""
    errors = sorted(validator(CALLBACK_SCHEMA).iter_errors(body), key=str)
    assert not errors, f"not a valid interaction callback: {errors[0].message}\n{body}"


def assert_commands(body: Any) -> None:
    errors = sorted(validator(COMMANDS_SCHEMA).iter_errors(body), key=str)
    assert not errors, f"not a valid command registration: {errors[0].message}"


@dataclass
class Signer:
    key: SigningKey

    @property
    def public_hex(self) -> str:
        return self.key.verify_key.encode().hex()

    def headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.key.sign(stamp.encode() + body).signature.hex()
        return {
            "X-Signature-Ed25519": signature,
            "X-Signature-Timestamp": stamp,
            "Content-Type": "application/json",
        }


def _user(user_id: str) -> dict[str, Any]:
    name = USERNAMES.get(user_id, f"user{user_id[-4:]}")
    return {
        "id": user_id,
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }


def _base(kind: int, user_id: str, *, guild: bool) -> dict[str, Any]:
    interaction_id = snowflake()
    body: dict[str, Any] = {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": kind,
        "token": f"token-{interaction_id}",
        "version": 1,
        "channel_id": CHANNEL_ID,
        "locale": "en-GB",
        "app_permissions": "0",
        "entitlements": [],
        "attachment_size_limit": 10485760,
    }
    if guild:
        body |= {
            "guild_id": GUILD_ID,
            "guild_locale": "en-US",
            "context": 0,
            "authorizing_integration_owners": {"0": GUILD_ID},
            "member": {
                "user": _user(user_id),
                "roles": [],
                "joined_at": "2025-01-01T00:00:00.000000+00:00",
                "permissions": "2248473465835073",
                "deaf": False,
                "mute": False,
                "flags": 0,
            },
        }
    else:
        body |= {
            "context": 1,
            "authorizing_integration_owners": {"1": user_id},
            "user": _user(user_id),
            "channel": {"id": CHANNEL_ID, "type": 1},
        }
    return body


def _options(path: tuple[str, ...], values: dict[str, Any], focused: str | None) -> list[Any]:
    leaves = []
    for name, value in values.items():
        kind = 10 if name == "hours" else 3
        option: dict[str, Any] = {"name": name, "type": kind, "value": value}
        if name == focused:
            option["focused"] = True
        leaves.append(option)
    if len(path) == 1:
        return leaves
    sub: dict[str, Any] = {"name": path[1], "type": 1}
    if leaves:
        sub["options"] = leaves
    return [sub]


def command(
    name: str,
    user_id: str = ALICE,
    *,
    guild: bool = True,
    focused: str | None = None,
    **values: Any,
) -> dict[str, Any]:
    """`command("session in", subject="x")` as Discord would send it."""
    path = tuple(name.split())
    body = _base(4 if focused else 2, user_id, guild=guild)
    body["data"] = {
        "id": snowflake(),
        "name": path[0],
        "type": 1,
        "options": _options(path, values, focused),
    }
    if guild:
        body["data"]["guild_id"] = GUILD_ID
    return body


def card_message(message_id: str = "1700000000000000007") -> dict[str, Any]:
    return {
        "id": message_id,
        "channel_id": CHANNEL_ID,
        "type": 20,
        "content": "",
        "embeds": [],
        "components": [],
        "author": {"id": APP_ID, "username": "timetrack", "bot": True},
        "timestamp": "2026-11-18T01:00:00.000000+00:00",
        "flags": 0,
    }


def click(custom_id: str, user_id: str = ALICE, *, guild: bool = True) -> dict[str, Any]:
    body = _base(3, user_id, guild=guild)
    body["data"] = {"custom_id": custom_id, "component_type": 2}
    body["message"] = card_message()
    return body


def submit(
    custom_id: str,
    values: dict[str, str],
    user_id: str = ALICE,
    *,
    guild: bool = True,
    legacy_rows: bool = False,
    from_card: bool = True,
) -> dict[str, Any]:
    body = _base(5, user_id, guild=guild)
    if legacy_rows:
        components = [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()
        ]
    else:
        components = [
            {
                "type": 18,
                "id": index * 2 + 1,
                "component": {"type": 4, "id": index * 2 + 2, "custom_id": key, "value": value},
            }
            for index, (key, value) in enumerate(values.items())
        ]
    body["data"] = {"custom_id": custom_id, "components": components}
    if from_card:
        body["message"] = card_message()
    return body


class Discord:
    """Posts signed interactions to the app and checks every answer against the spec."""

    def __init__(self, http: httpx.AsyncClient, signer: Signer) -> None:
        self.http = http
        self.signer = signer

    async def raw(
        self, body: bytes, headers: Mapping[str, str | bytes] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            "/api/discord", content=body, headers=headers or self.signer.headers(body)
        )

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = await self.raw(json.dumps(payload).encode())
        assert response.status_code == 200, response.text
        body = response.json()
        assert_callback(body)
        return body

    async def run(self, name: str, user_id: str = ALICE, **kwargs: Any) -> dict[str, Any]:
        return await self.send(command(name, user_id, **kwargs))

    async def click(self, custom_id: str, user_id: str = ALICE, **kwargs: Any) -> dict[str, Any]:
        return await self.send(click(custom_id, user_id, **kwargs))

    async def submit(
        self, custom_id: str, values: dict[str, str], user_id: str = ALICE, **kwargs: Any
    ) -> dict[str, Any]:
        return await self.send(submit(custom_id, values, user_id, **kwargs))


def is_ephemeral(body: dict[str, Any]) -> bool:
    return bool((body.get("data") or {}).get("flags", 0) & 64)


def card_session_id(body: dict[str, Any]) -> int:
    footer = body["data"]["embeds"][0]["footer"]["text"]
    return int(footer.removeprefix("Session "))


def button_ids(body: dict[str, Any]) -> list[str]:
    return [
        button["custom_id"]
        for row in body["data"]["components"]
        for button in row["components"]
        if "custom_id" in button
    ]


def description(body: dict[str, Any]) -> str:
    return str(body["data"]["embeds"][0]["description"])
