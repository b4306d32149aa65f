"""`GET|POST /api/cron/stop-stale`: the secret, the sweep, and the DMs sent after commit."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import psycopg
import pytest
import respx
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import session as sessions
from app.clock import Clock
from app.config import get_settings
from app.db import libpq_url
from app.models import ProcessedEvent, Session, SessionStatus, StopReason
from server.router import app
from tests.inbox import DM_FAILURES
from tests.ops.conftest import (
    CRON_SECRET,
    bearer,
    delivery_at,
    fresh_user_id,
    hours_ago,
    session_started_at,
)

API_BASE = "https://discord.test/api/v10"
BOT_TOKEN = "bot-token-for-tests"
PATH = "/api/cron/stop-stale"


@pytest.fixture
def discord_bot(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("DISCORD_BOT_TOKEN", BOT_TOKEN)
    settings_env.setenv("DISCORD_API_BASE", API_BASE)
    get_settings.cache_clear()


# --- the secret ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unset_secret_turns_the_endpoint_off(
    client: AsyncClient, settings_env: pytest.MonkeyPatch, method: str
) -> None:
    settings_env.delenv("CRON_SECRET", raising=False)
    get_settings.cache_clear()

    response = await client.request(method, PATH, headers=bearer())

    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"
    assert "CRON_SECRET" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong-secret"},
        {"Authorization": f"Bearer {CRON_SECRET[:-1]}"},
        {"Authorization": f"Bearer {CRON_SECRET}x"},
        {"Authorization": f"Bearer  {CRON_SECRET}"},
        {"Authorization": f"Token {CRON_SECRET}"},
        {"Authorization": f"Basic {CRON_SECRET}"},
        {"Authorization": CRON_SECRET},
        {"Authorization": "Bearer ünïcödé".encode()},
    ],
    ids=lambda headers: repr(headers.get("Authorization"))[:24],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_missing_or_wrong_secret_is_401(
    client: AsyncClient, cron_secret: str, headers: dict[str, str | bytes], method: str
) -> None:
    response = await client.request(method, PATH, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert CRON_SECRET not in response.text


async def test_the_scheme_is_case_insensitive(
    client: AsyncClient, cron_secret: str, frozen: Clock
) -> None:
    response = await client.get(PATH, headers={"Authorization": f"bearer {CRON_SECRET}"})
    assert response.status_code == 200


async def test_a_rejected_request_never_touches_the_database(
    unreachable_database: object, cron_secret: str
) -> None:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://ops") as http:
        response = await http.get(PATH, headers=bearer("nope"))
    assert response.status_code == 401


async def test_a_dead_database_is_503_not_500(
    unreachable_database: object, cron_secret: str
) -> None:
    # As a server would: the error handlers answer, and the exception is not re-raised.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://ops") as http:
        response = await http.get(PATH, headers=bearer())
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"


# --- the sweep -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_stops_stale_sessions_and_reports_them(
    client: AsyncClient, db: AsyncSession, cron_secret: str, frozen: Clock, method: str
) -> None:
    now = frozen.now()
    first = await session_started_at(db, fresh_user_id(), hours_ago(now, 49))
    second = await session_started_at(
        db, fresh_user_id(), hours_ago(now, 25), paused_at=hours_ago(now, 24)
    )
    fresh = await session_started_at(db, fresh_user_id(), hours_ago(now, 3))

    response = await client.request(method, PATH, headers=bearer())

    assert response.status_code == 200
    assert response.json() == {"stopped": 2, "session_ids": [first.id, second.id]}
    for session in (first, second):
        stored = await sessions.get(db, session.user_id, session.id)
        assert stored.status == SessionStatus.ENDED_UNCONFIRMED
        assert stored.stop_reason == StopReason.STALE
    assert (await sessions.get(db, fresh.user_id, fresh.id)).status == SessionStatus.RUNNING

    again = await client.request(method, PATH, headers=bearer())
    assert again.json() == {"stopped": 0, "session_ids": []}


async def test_uses_the_configured_threshold(
    client: AsyncClient,
    db: AsyncSession,
    cron_secret: str,
    frozen: Clock,
    settings_env: pytest.MonkeyPatch,
) -> None:
    settings_env.setenv("TIMETRACK_STALE_HOURS", "0.25")
    get_settings.cache_clear()
    session = await session_started_at(db, fresh_user_id(), frozen.now() - timedelta(minutes=20))

    response = await client.get(PATH, headers=bearer())

    assert response.json() == {"stopped": 1, "session_ids": [session.id]}


async def test_prunes_idempotency_records_older_than_a_week(
    client: AsyncClient, db: AsyncSession, cron_secret: str, frozen: Clock
) -> None:
    now = frozen.now()
    await delivery_at(db, now - timedelta(days=9), succeeded=True)
    await delivery_at(db, now - timedelta(days=1), succeeded=True)
    before = await db.scalar(select(func.count()).select_from(ProcessedEvent))

    response = await client.get(PATH, headers=bearer())

    assert response.status_code == 200
    after = await db.scalar(select(func.count()).select_from(ProcessedEvent))
    assert before is not None and after == before - 1
    recent = (await db.execute(select(ProcessedEvent.created_at))).scalars().all()
    assert all(at >= now - timedelta(days=7) for at in recent)


# --- the DMs ---------------------------------------------------------------------------


async def test_owners_get_their_card_by_dm_after_the_commit(
    real_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
    cron_secret: str,
    discord_bot: None,
    frozen: Clock,
) -> None:
    now = frozen.now()
    alice, bob = "2000000000000000001", "2000000000000000002"
    async with committed() as db, db.begin():
        alices = await session_started_at(db, alice, hours_ago(now, 30), subject="Thesis")
        bobs = await session_started_at(db, bob, hours_ago(now, 26), subject="Chemistry")
    channels = {alice: "3000000000000000001", bob: "3000000000000000002"}
    seen_committed: list[str] = []

    def open_channel(request: httpx.Request) -> httpx.Response:
        recipient = json.loads(request.content)["recipient_id"]
        # Another connection must already see the stop: the DM follows the commit.
        with psycopg.connect(libpq_url(database_url)) as conn:
            row = conn.execute(
                "SELECT status FROM sessions WHERE user_id = %s", (recipient,)
            ).fetchone()
        assert row is not None
        seen_committed.append(row[0])
        return httpx.Response(200, json={"id": channels[recipient], "type": 1})

    with respx.mock(assert_all_called=True) as discord:
        opened = discord.post(f"{API_BASE}/users/@me/channels").mock(side_effect=open_channel)
        sent = discord.post(url__regex=rf"{API_BASE}/channels/\d+/messages").mock(
            return_value=httpx.Response(200, json={"id": "1"})
        )
        response = await real_client.get(PATH, headers=bearer())

    assert response.status_code == 200
    assert response.json() == {"stopped": 2, "session_ids": [alices.id, bobs.id]}
    assert seen_committed == ["ENDED_UNCONFIRMED", "ENDED_UNCONFIRMED"]
    assert opened.call_count == 2
    assert sent.call_count == 2
    for call in opened.calls:
        assert call.request.headers["authorization"] == f"Bot {BOT_TOKEN}"
    by_channel = {
        call.request.url.path.split("/")[-2]: json.loads(call.request.content)
        for call in sent.calls
    }
    for user, session, subject in ((alice, alices, "Thesis"), (bob, bobs, "Chemistry")):
        message = by_channel[channels[user]]
        embed = message["embeds"][0]
        assert embed["title"] == subject
        assert embed["footer"]["text"] == f"Session {session.id}"
        assert "24 hours" in message["content"]
        # The review buttons of an unconfirmed session, which work like any card's.
        ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
        assert f"confirm:{session.id}" in ids
        assert f"adjust_time:{session.id}" in ids
        assert "flags" not in message or not message["flags"] & 64


@DM_FAILURES
async def test_a_failed_dm_never_fails_the_cron(
    real_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    cron_secret: str,
    discord_bot: None,
    frozen: Clock,
    failure: httpx.Response | Exception,
) -> None:
    async with committed() as db, db.begin():
        session = await session_started_at(db, fresh_user_id(), hours_ago(frozen.now(), 30))

    with respx.mock(assert_all_called=False) as discord:
        route = discord.post(f"{API_BASE}/users/@me/channels")
        if isinstance(failure, Exception):
            route.mock(side_effect=failure)
        else:
            route.mock(return_value=failure)
        response = await real_client.post(PATH, headers=bearer())

    assert response.status_code == 200
    assert response.json() == {"stopped": 1, "session_ids": [session.id]}
    async with committed() as db:
        stored = await db.get(Session, session.id)
    assert stored is not None
    assert (stored.status, stored.stop_reason) == ("ENDED_UNCONFIRMED", "stale")


async def test_without_a_bot_token_nobody_is_contacted(
    client: AsyncClient,
    db: AsyncSession,
    cron_secret: str,
    settings_env: pytest.MonkeyPatch,
    frozen: Clock,
) -> None:
    settings_env.delenv("DISCORD_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    await session_started_at(db, fresh_user_id(), hours_ago(frozen.now(), 30))

    with respx.mock(assert_all_called=False) as outside:
        response = await client.get(PATH, headers=bearer())

    assert response.json()["stopped"] == 1
    assert outside.calls.call_count == 0
