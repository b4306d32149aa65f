"""Discord's DM endpoints, faked with respx for tests of messages timetrack sends by itself.

Opening a DM channel answers a channel per recipient; posting to it records the message,
after checking it against Discord's own schema for a new message. Chosen recipients can be
made to fail: Discord refusing (403), erring (500), or not answering at all.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from app.config import get_settings
from tests.discord.support import API_BASE, validator

BOT_TOKEN = "bot-token-for-tests"
MESSAGE_SCHEMA = "#/components/schemas/MessageCreateRequest"

_channels = itertools.count(3_100_000_000_000_000_000)

# What Discord answers when the user accepts no DMs from the bot.
REFUSED = {"message": "Cannot send messages to this user", "code": 50007}

# The ways a DM fails: Discord refuses (the user closed their DMs), errs, or is unreachable.
DM_FAILURES = pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(403, json=REFUSED),
        httpx.Response(500, text="oops"),
        httpx.ConnectError("no route"),
    ],
    ids=["refused", "server-error", "unreachable"],
)


def assert_message(body: Any) -> None:
    """The body is a message Discord accepts in a channel (a DM is one)."""
    errors = sorted(validator(MESSAGE_SCHEMA).iter_errors(body), key=str)
    assert not errors, f"not a valid Discord message: {errors[0].message}\n{body}"


@dataclass
class Inbox:
    """What reached each recipient, and every attempt."""

    delivered: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    attempts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: dict[str, httpx.Response | Exception] = field(default_factory=dict)
    _recipients: dict[str, str] = field(default_factory=dict)

    def to(self, user_id: str) -> list[dict[str, Any]]:
        return [message for recipient, message in self.delivered if recipient == user_id]

    def tried(self, user_id: str) -> list[dict[str, Any]]:
        return [message for recipient, message in self.attempts if recipient == user_id]

    def refuse(self, user_id: str) -> None:
        self.failing[user_id] = httpx.Response(403, json=REFUSED)

    def accept(self, user_id: str) -> None:
        self.failing.pop(user_id, None)

    def _open(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bot {BOT_TOKEN}"
        recipient = json.loads(request.content)["recipient_id"]
        channel = str(next(_channels))
        self._recipients[channel] = recipient
        return httpx.Response(200, json={"id": channel, "type": 1})

    def _post(self, request: httpx.Request) -> httpx.Response:
        channel = request.url.path.split("/")[-2]
        # A channel no DM opened is a server's channel (a team's week): `#<channel id>`.
        recipient = self._recipients.get(channel, f"#{channel}")
        message = json.loads(request.content)
        assert_message(message)
        self.attempts.append((recipient, message))
        failure = self.failing.get(recipient)
        if isinstance(failure, Exception):
            raise failure
        if failure is not None:
            return failure
        self.delivered.append((recipient, message))
        return httpx.Response(200, json={"id": str(next(_channels)), "channel_id": channel})


@contextmanager
def discord_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A bot token, and Discord's DM endpoints faked for the duration."""
    monkeypatch.setenv("DISCORD_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("DISCORD_API_BASE", API_BASE)
    get_settings.cache_clear()
    inbox = Inbox()
    with respx.mock(assert_all_called=False) as discord:
        discord.post(f"{API_BASE}/users/@me/channels").mock(side_effect=inbox._open)
        discord.post(url__regex=rf"^{API_BASE}/channels/\d+/messages$").mock(
            side_effect=inbox._post
        )
        yield inbox
    get_settings.cache_clear()


def button_ids(message: dict[str, Any]) -> list[str]:
    return [
        button["custom_id"]
        for row in message.get("components", [])
        for button in row["components"]
        if "custom_id" in button
    ]
