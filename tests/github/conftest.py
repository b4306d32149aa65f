"""GitHub test helpers: the real octokit payloads, re-targeted and signed like GitHub does."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import Any

import pytest
import pytest_asyncio
import respx
from httpx import ASGITransport, AsyncClient, Response
from nacl.signing import SigningKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app import session as sessions
from app.config import get_settings
from app.issues import IssueRef
from app.models import SessionSource
from server.integrations.discord import deferral, views
from tests.fixtures import GITHUB_FIXTURES

SECRET = "webhook-secret-for-tests"
DISCORD_API = "https://discord.test/api/v10"
GITHUB_API = "https://api.github.test"
GITHUB_WEB = "https://github.test"


FIXTURES = GITHUB_FIXTURES
WEBHOOK = "/api/github/webhook"

_ids = itertools.count(1)


def fresh_user_id() -> str:
    return f"gh-user-{os.getpid()}-{next(_ids)}"


@cache
def _fixture(name: str) -> dict[str, Any]:
    path = FIXTURES / f"{name}.json"
    if not path.exists():
        pytest.fail(f"missing fixture {path}; set TIMETRACK_FIXTURES to the fixtures folder")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a real payload; `issues.closed` is derived from `issues.reopened`."""
    if name == "issues.closed":
        derived = copy.deepcopy(_fixture("issues.reopened"))
        derived["action"] = "closed"
        derived["issue"]["state"] = "closed"
        derived["issue"]["closed_at"] = "2019-05-15T15:21:00Z"
        return derived
    return copy.deepcopy(_fixture(name))


def retarget(body: dict[str, Any], login: str, *, sender: str | None = None) -> dict[str, Any]:
    """The same event about `login`: the assignee, the issue's assignees and the sender."""
    if isinstance(body.get("assignee"), dict):
        body["assignee"]["login"] = login
    issue = body.get("issue")
    if isinstance(issue, dict):
        for person in (issue.get("assignee"), *(issue.get("assignees") or [])):
            if isinstance(person, dict):
                person["login"] = login
    body["sender"]["login"] = sender or login
    return body


def on_issue(
    body: dict[str, Any], *, number: int = 1, repo: str = "Codertocat/Hello-World"
) -> dict[str, Any]:
    body["issue"]["number"] = number
    body["issue"]["html_url"] = f"https://github.com/{repo}/issues/{number}"
    body["repository"]["full_name"] = repo
    return body


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Hook:
    """Sends deliveries to the webhook exactly as GitHub does."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def send(
        self,
        event: str,
        body: dict[str, Any] | bytes,
        *,
        delivery: str | None = None,
        secret: str = SECRET,
        signature: str | None = None,
        path: str = WEBHOOK,
    ) -> Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/test",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature if signature is not None else sign(raw, secret),
        }
        return await self.client.post(path, content=raw, headers=headers)


@pytest.fixture
def github_env(settings_env: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The webhook secret set; no Discord bot, no GitHub token, unless a test adds them."""
    settings_env.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    for name in ("GITHUB_TOKEN", "DISCORD_BOT_TOKEN", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"):
        settings_env.delenv(name, raising=False)
    settings_env.setenv("DISCORD_API_BASE", DISCORD_API)
    settings_env.setenv("GITHUB_API_BASE", GITHUB_API)
    settings_env.setenv("GITHUB_OAUTH_BASE", GITHUB_WEB)
    get_settings.cache_clear()
    yield settings_env
    get_settings.cache_clear()


@pytest.fixture
def hook(client: AsyncClient, github_env: pytest.MonkeyPatch) -> Hook:
    return Hook(client)


@pytest.fixture
def discord_bot(github_env: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    """A bot token and a fake Discord that accepts DMs; each test asserts what was sent."""
    github_env.setenv("DISCORD_BOT_TOKEN", "bot-token-for-tests")
    get_settings.cache_clear()
    with respx.mock(assert_all_called=False) as discord:
        discord.post(f"{DISCORD_API}/users/@me/channels", name="open_dm").mock(
            side_effect=lambda request: Response(
                200, json={"id": "dm-" + json.loads(request.content)["recipient_id"]}
            )
        )
        discord.post(
            url__regex=rf"^{DISCORD_API}/channels/[^/]+/messages$", name="dm_message"
        ).mock(return_value=Response(200, json={"id": "m1"}))
        yield discord


async def link(db: AsyncSession, login: str, user_id: str | None = None) -> str:
    """A user with `login` linked; returns the user id."""
    user_id = user_id or fresh_user_id()
    await accounts.link_github(db, user_id, login)
    return user_id


async def delivery_rows(db: AsyncSession) -> list[dict[str, Any]]:
    await db.flush()
    result = await db.execute(
        text(
            "SELECT id, event_id, status_code, succeeded, response FROM processed_events"
            " WHERE kind = 'github_delivery' ORDER BY id"
        )
    )
    return [dict(row) for row in result.mappings()]


async def session_row(db: AsyncSession, session_id: int) -> dict[str, Any]:
    await db.flush()
    result = await db.execute(text("SELECT * FROM sessions WHERE id = :id"), {"id": session_id})
    return dict(result.mappings().one())


def dm_bodies(discord: respx.MockRouter) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in discord.routes["dm_message"].calls]


def dm_recipients(discord: respx.MockRouter) -> list[str]:
    return [
        json.loads(call.request.content)["recipient_id"] for call in discord.routes["open_dm"].calls
    ]


# --- Committed data and Discord clicks (the Switch button, the Action) -------------------


@pytest_asyncio.fixture(loop_scope="session")
async def live_client(
    committed: async_sessionmaker[AsyncSession], github_env: pytest.MonkeyPatch
) -> AsyncIterator[AsyncClient]:
    """The app with its own transactions (no test override): every request really commits."""
    from server.router import app

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
    await deferral.drain()


@pytest.fixture
def interaction_key(github_env: pytest.MonkeyPatch) -> SigningKey:
    key = SigningKey.generate()
    github_env.setenv("DISCORD_PUBLIC_KEY", key.verify_key.encode().hex())
    github_env.setenv("DISCORD_APPLICATION_ID", "1100000000000000001")
    get_settings.cache_clear()
    return key


async def click_in_dm(
    http: AsyncClient, key: SigningKey, user_id: str, custom_id: str
) -> dict[str, Any]:
    """A button click in the bot's DM with `user_id`, signed as Discord signs it."""
    interaction_id = str(1_900_000_000_000_000_000 + next(_ids))
    body = json.dumps(
        {
            "id": interaction_id,
            "application_id": "1100000000000000001",
            "type": 3,
            "token": f"token-{interaction_id}",
            "version": 1,
            "channel_id": "1300000000000000099",
            "context": 1,
            "user": {"id": user_id, "username": f"u{user_id[-4:]}", "discriminator": "0"},
            "data": {"custom_id": custom_id, "component_type": 2},
            "message": {"id": "1700000000000000099", "channel_id": "1300000000000000099"},
        }
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Timestamp": stamp,
        "X-Signature-Ed25519": key.sign(stamp.encode() + body).signature.hex(),
    }
    response = await http.post("/api/discord", content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


# --- The issue of the real payloads ------------------------------------------------------

ISSUE = IssueRef("Codertocat/Hello-World", 1, "https://github.com/Codertocat/Hello-World/issues/1")
GOAL = "#1 Spelling error in the README file"
LABEL = views.escape("Codertocat/Hello-World#1")  # as Discord cards show it


def assigned(login: str = "Codertocat", name: str = "issues.assigned") -> dict[str, Any]:
    return retarget(payload(name), login)


async def track_issue(db: AsyncSession, user_id: str, *, paused: bool = False) -> int:
    started = await sessions.clock_in(
        db, user_id, ISSUE.repo, GOAL, source=SessionSource.GITHUB, issue=ISSUE
    )
    if paused:
        await sessions.pause(db, user_id, started.id)
    return started.id


async def count_sessions(db: AsyncSession) -> int:
    await db.flush()
    return int(await db.scalar(text("SELECT count(*) FROM sessions")) or 0)
