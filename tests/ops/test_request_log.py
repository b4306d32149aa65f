"""One JSON line per request, and no token, secret, signature or cookie in any log line."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from httpx import ASGITransport, AsyncClient
from nacl.signing import SigningKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app.config import get_settings
from server.logging import UNMATCHED, hash_user, route_template
from server.router import app
from tests.fixtures import GITHUB_FIXTURES
from tests.ops.conftest import CRON_SECRET, hours_ago, session_started_at

BASE_URL = "https://tt.example"
SECRET_KEY = "signing-key-for-the-log-tests-0123456789"
WEBHOOK_SECRET = "webhook-secret-for-the-log-tests"
BOT_TOKEN = "bot-token-for-the-log-tests"
DISCORD_API = "https://discord.test/api/v10"
DISCORD_KEY = SigningKey(b"\x07" * 32)
APPLICATION_ID = "1100000000000000009"
USER = "1400000000000000077"
FIXTURES = GITHUB_FIXTURES


@pytest.fixture
def deployment(settings_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "TIMETRACK_BASE_URL": BASE_URL,
        "TIMETRACK_SECRET_KEY": SECRET_KEY,
        "DISCORD_PUBLIC_KEY": DISCORD_KEY.verify_key.encode().hex(),
        "DISCORD_APPLICATION_ID": APPLICATION_ID,
        "DISCORD_BOT_TOKEN": BOT_TOKEN,
        "DISCORD_API_BASE": DISCORD_API,
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CRON_SECRET": CRON_SECRET,
    }.items():
        settings_env.setenv(name, value)
    get_settings.cache_clear()


@pytest_asyncio.fixture(loop_scope="session")
async def http(engine: object, deployment: None) -> AsyncIterator[AsyncClient]:
    """The deployed app as is: its own transactions, https, cookies kept between calls."""
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "timetrack.request"
    ]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a log store would keep it: message, exception text, extra fields."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(record) + " " + repr(record.__dict__) for record in caplog.records
    )


def expected_hash(user_id: str) -> str:
    key = hmac.new(SECRET_KEY.encode(), b"timetrack request log", hashlib.sha256).digest()
    return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:12]


# --- the line --------------------------------------------------------------------------


async def test_each_request_is_one_line_with_route_template_status_duration_and_user(
    http: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with committed() as db, db.begin():
        _, token = await accounts.create_api_token(db, USER, "cli")
    auth = {"Authorization": f"Token {token}"}
    caplog.set_level(logging.INFO)

    started = await http.post("/api/timelogs/start/", json={"subject": "Maths"}, headers=auth)
    session_id = started.json()["id"]
    await http.post(f"/api/timelogs/{session_id}/pause/", headers=auth)
    await http.get(f"/api/timelogs/{session_id}/", headers=auth)
    await http.get("/api/timelogs/current/")  # no credentials
    await http.get("/no/such/place?token=abc")

    lines = request_lines(caplog)
    assert [(line["method"], line["status"]) for line in lines] == [
        ("POST", 201),
        ("POST", 200),
        ("GET", 200),
        ("GET", 401),
        ("GET", 404),
    ]
    routes = [line["route"] for line in lines]
    assert routes[0] == "/api/timelogs/start/"
    assert re.fullmatch(r"/api/timelogs/\{\w+\}/pause/", routes[1])
    assert re.fullmatch(r"/api/timelogs/\{\w+\}/", routes[2])
    assert routes[4] == UNMATCHED
    assert all(str(session_id) not in route for route in routes)
    for line in lines:
        assert set(line) <= {"method", "route", "status", "duration_ms", "user"}
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert [line.get("user") for line in lines] == [expected_hash(USER)] * 3 + [None, None]
    assert hash_user(USER) == expected_hash(USER)


async def test_a_database_outage_is_logged_as_the_503_it_answers(
    unreachable_database: object, deployment: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get(
            "/api/cron/stop-stale", headers={"Authorization": f"Bearer {CRON_SECRET}"}
        )

    assert response.status_code == 503
    [line] = request_lines(caplog)
    assert (line["route"], line["status"]) == ("/api/cron/stop-stale", 503)


def test_route_template_never_falls_back_to_the_raw_path() -> None:
    assert route_template({"type": "http", "path": "/login/secret-token"}) == UNMATCHED


# --- nothing secret, across a whole day's traffic -----------------------------------------


def _signed_discord(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    return raw, {
        "X-Signature-Ed25519": DISCORD_KEY.sign(stamp.encode() + raw).signature.hex(),
        "X-Signature-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def _interaction(kind: int, interaction_id: str, token: str, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": interaction_id,
        "application_id": APPLICATION_ID,
        "type": kind,
        "token": token,
        "version": 1,
        "channel_id": "1300000000000000003",
        "context": 1,
        "user": {"id": USER, "username": "alice", "discriminator": "0", "avatar": None},
        "authorizing_integration_owners": {"1": USER},
    }
    if data is not None:
        body["data"] = data
    return body


def _signed_github(event: str, payload: bytes, delivery: str) -> dict[str, str]:
    digest = hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


async def test_a_full_flow_logs_no_token_secret_signature_or_cookie(
    http: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from app.clock import clock

    async with committed() as db, db.begin():
        _, api_token = await accounts.create_api_token(db, USER, "laptop")
        login_url = await accounts.create_login_link(db, USER)
        # Someone else's forgotten session, for the cron to stop (and DM about).
        await session_started_at(db, "1400000000000000088", hours_ago(clock.now(), 30))
    login_token = login_url.rsplit("/", 1)[-1]
    secrets: dict[str, str] = {
        "api token": api_token,
        "login token": login_token,
        "secret key": SECRET_KEY,
        "webhook secret": WEBHOOK_SECRET,
        "bot token": BOT_TOKEN,
        "cron secret": CRON_SECRET,
    }
    # Production's level: Vercel sends everything at INFO and above to its log store.
    caplog.set_level(logging.INFO)
    made = 0

    with respx.mock(assert_all_called=False) as discord:
        discord.route(host="discord.test").mock(
            side_effect=lambda request: httpx.Response(
                200, json={"id": "3000000000000000001", "type": 1}
            )
        )
        token_auth = {"Authorization": f"Token {api_token}"}

        # REST with a personal token: start, pause, stop; and a wrong token.
        started = await http.post(
            "/api/timelogs/start/",
            json={"subject": "Maths", "goal": "log test"},
            headers=token_auth,
        )
        assert started.status_code == 201, started.text
        session_id = started.json()["id"]
        for action in ("pause", "resume", "stop"):
            response = await http.post(f"/api/timelogs/{session_id}/{action}/", headers=token_auth)
            assert response.status_code == 200, response.text
        wrong = await http.get("/api/me", headers={"Authorization": "Token tt_not-a-real-token"})
        assert wrong.status_code == 401
        made += 5

        # The page: a sign-in link, the page itself, a cookie call with its CSRF token.
        signed_in = await http.get(f"/login/{login_token}")
        assert signed_in.status_code == 303
        page = await http.get("/")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf is not None
        secrets["csrf token"] = csrf.group(1)
        cookie = http.cookies.get("timetrack_session")
        assert cookie
        secrets["cookie"] = cookie
        on_page = await http.post(
            "/api/timelogs/start/",
            json={"subject": "Physics"},
            headers={"X-CSRF-Token": secrets["csrf token"]},
        )
        assert on_page.status_code == 201, on_page.text
        reused = await http.get(f"/login/{login_token}")
        assert reused.status_code == 400
        made += 4

        # Discord: a PING, `/session status`, and `/web` (whose answer holds a sign-in link).
        interactions = {
            "ping": _interaction(1, "1700000000000000001", "interaction-token-ping"),
            "status": _interaction(
                2,
                "1700000000000000002",
                "interaction-token-status",
                {
                    "id": "1",
                    "name": "session",
                    "type": 1,
                    "options": [{"name": "status", "type": 1}],
                },
            ),
            "web": _interaction(
                2,
                "1700000000000000003",
                "interaction-token-web",
                {"id": "2", "name": "web", "type": 1},
            ),
        }
        for name, body in interactions.items():
            raw, headers = _signed_discord(body)
            secrets[f"interaction token {name}"] = body["token"]
            secrets[f"discord signature {name}"] = headers["X-Signature-Ed25519"]
            response = await http.post("/api/discord", content=raw, headers=headers)
            assert response.status_code == 200, response.text
            if name == "web":
                link = re.search(r"/login/([A-Za-z0-9_-]{20,})", response.text)
                assert link is not None, response.text
                secrets["login token from /web"] = link.group(1)
        made += 3

        # GitHub: a ping and a real `issues.assigned`, signed as GitHub signs them.
        for event, fixture, delivery in (
            ("ping", "ping.json", "a1b2c3d4-0000-4000-8000-000000000001"),
            ("issues", "issues.assigned.json", "a1b2c3d4-0000-4000-8000-000000000002"),
        ):
            payload = (FIXTURES / fixture).read_bytes()
            headers = _signed_github(event, payload, delivery)
            secrets[f"hub signature {event}"] = headers["X-Hub-Signature-256"].split("=", 1)[1]
            response = await http.post("/api/github/webhook", content=payload, headers=headers)
            assert response.status_code == 200, response.text
        made += 2

        # The cron, which also DMs through Discord's REST API with the bot token.
        cron = await http.get(
            "/api/cron/stop-stale", headers={"Authorization": f"Bearer {CRON_SECRET}"}
        )
        assert cron.json()["stopped"] == 1
        made += 1

    lines = request_lines(caplog)
    assert len(lines) == made
    logged = everything_logged(caplog)
    leaked = sorted(name for name, value in secrets.items() if value and value in logged)
    assert leaked == [], f"found in the logs: {leaked}"
    assert "/login/" + login_token not in logged
    assert "/login/{token}" in {line["route"] for line in lines}
    # Every authenticated REST call and page view was attributed, to a hash only.
    assert expected_hash(USER) in {line.get("user") for line in lines}
    assert USER not in "".join(json.dumps(line) for line in lines)


async def test_database_errors_never_quote_their_parameters(db: AsyncSession) -> None:
    """Error handlers log exceptions; a statement's parameters must not ride along."""
    secret = "a-sign-in-token-that-must-stay-out-of-logs"

    with pytest.raises(DBAPIError) as failed:
        async with db.begin_nested():
            await db.execute(
                text("SELECT 1 / 0 WHERE CAST(:secret AS text) IS NOT NULL"), {"secret": secret}
            )

    assert "division by zero" in str(failed.value)
    assert secret not in str(failed.value)
