"""Failed sign-ins are counted per client address in PostgreSQL. After 20 within a minute the
address gets 429 with Retry-After on every route that signs anyone in, until the minute has
passed, without any credential being looked up; other addresses are unaffected."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from httpx import ASGITransport, AsyncClient, Response
from nacl.signing import SigningKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, throttle
from app.clock import Clock
from app.config import get_settings
from app.models import AuthFailure
from server.auth import cookie as cookies
from server.router import app, create_app
from tests.api.conftest import error_of, make_user
from tests.ops.conftest import CRON_SECRET
from tests.ops.test_security_headers import assert_secured

WEBHOOK_SECRET = "webhook-secret-for-the-throttle-tests"
DISCORD_KEY = SigningKey(b"\x05" * 32)
USER = "1400000000000000033"
PING = json.dumps({"id": "1", "application_id": "2", "type": 1, "token": "t"}).encode()


@pytest.fixture(autouse=True)
def deployment(settings_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CRON_SECRET": CRON_SECRET,
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DISCORD_PUBLIC_KEY": DISCORD_KEY.verify_key.encode().hex(),
        "GITHUB_CLIENT_ID": "client",
        "GITHUB_CLIENT_SECRET": "secret",
    }.items():
        settings_env.setenv(name, value)
    settings_env.delenv("TIMETRACK_TRUSTED_PROXY", raising=False)
    get_settings.cache_clear()


@asynccontextmanager
async def browser(address: str, application: object = app) -> AsyncIterator[AsyncClient]:
    """A client whose requests come from `address` (the `client` fixture's transaction
    applies, as for any client of the same app)."""
    transport = ASGITransport(app=application, client=(address, 40000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={signature}", "X-GitHub-Event": "ping"}


def discord_headers(body: bytes, key: SigningKey = DISCORD_KEY) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body).signature.hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}


async def fail(http: AsyncClient, times: int = throttle.LIMIT) -> None:
    """`times` requests with a token nobody has."""
    for _ in range(times):
        response = await http.get("/api/me", headers={"Authorization": "Token tt_guessed"})
        assert response.status_code == 401


def assert_throttled(response: Response, seconds: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(seconds)
    code, detail = error_of(response)
    assert code == "too_many_requests"
    assert f"Try again in {seconds} second" in detail
    assert_secured(response)


@dataclass
class Credentials:
    """A valid credential of every kind, so only the throttle can refuse them."""

    token: str
    sign_in: str
    login_path: str
    github_start_path: str


@pytest.fixture
async def valid(db: AsyncSession) -> Credentials:
    user = await make_user(db, USER)
    sign_in = await accounts.create_sign_in(db, user.id)
    login = urlsplit(await accounts.create_login_link(db, user.id)).path
    start = urlsplit(await accounts.create_github_link_start(db, user.id))
    await db.commit()
    return Credentials(user.token, sign_in, login, f"{start.path}?{start.query}")


def every_signing_in_route(
    valid: Credentials,
) -> dict[str, Callable[[AsyncClient], Awaitable[Response]]]:
    bearer = {"Authorization": f"Token {valid.token}"}
    page_cookie = {"Cookie": f"{cookies.COOKIE_NAME}={valid.sign_in}"}
    return {
        "token": lambda http: http.get("/api/me", headers=bearer),
        "cookie on REST": lambda http: http.get("/api/me", headers=page_cookie),
        "cookie on the page": lambda http: http.get("/", headers=page_cookie),
        "login link": lambda http: http.get(valid.login_path),
        "github start link": lambda http: http.get(valid.github_start_path),
        "cron secret": lambda http: http.get(
            "/api/cron/stop-stale", headers={"Authorization": f"Bearer {CRON_SECRET}"}
        ),
        "webhook signature": lambda http: http.post(
            "/api/github/webhook", content=b"{}", headers=signed(b"{}")
        ),
    }


async def test_twenty_failures_shut_every_route_that_signs_in_until_the_minute_passes(
    client: AsyncClient, db: AsyncSession, valid: Credentials, frozen: Clock
) -> None:
    routes = every_signing_in_route(valid)
    async with browser("203.0.113.7") as attacker, browser("198.51.100.2") as neighbour:
        await fail(attacker, throttle.LIMIT - 1)
        assert (await routes["token"](attacker)).status_code == 200  # 19 are not enough
        await fail(attacker, 1)

        for name, call in routes.items():
            assert_throttled(await call(attacker), 60), name
        # Nothing was looked up, so nothing was spent: the links still work elsewhere.
        for name, call in routes.items():
            assert (await call(neighbour)).status_code < 400, name

        frozen.advance(59)
        assert_throttled(await routes["token"](attacker), 1)
        frozen.advance(1)
        assert (await routes["token"](attacker)).status_code == 200


async def test_a_throttled_request_looks_up_no_credential(
    client: AsyncClient, valid: Credentials, monkeypatch: pytest.MonkeyPatch, frozen: Clock
) -> None:
    async with browser("203.0.113.8") as attacker:
        await fail(attacker)

        async def looked_up(*args: object) -> None:
            raise AssertionError("a throttled request must not look up credentials")

        for name in ("user_for_token", "user_for_sign_in", "consume_login_link"):
            monkeypatch.setattr(accounts, name, looked_up)
        for name, call in every_signing_in_route(valid).items():
            assert (await call(attacker)).status_code == 429, name


def _wrong_token(http: AsyncClient) -> Awaitable[Response]:
    return http.get("/api/me", headers={"Authorization": "Token tt_guessed"})


def _malformed_header(http: AsyncClient) -> Awaitable[Response]:
    return http.get("/api/me", headers={"Authorization": "Basic YWRhOmxvdmVsYWNl"})


def _dead_cookie(http: AsyncClient) -> Awaitable[Response]:
    return http.get("/", headers={"Cookie": f"{cookies.COOKIE_NAME}=signed-out-long-ago"})


def _spent_link(http: AsyncClient) -> Awaitable[Response]:
    return http.get("/login/spent-or-never-made")


def _wrong_cron_secret(http: AsyncClient) -> Awaitable[Response]:
    return http.get("/api/cron/stop-stale", headers={"Authorization": "Bearer guessed"})


def _wrong_signature(http: AsyncClient) -> Awaitable[Response]:
    return http.post("/api/github/webhook", content=b"{}", headers=signed(b"{}", "guessed"))


def _bad_github_start(http: AsyncClient) -> Awaitable[Response]:
    return http.get("/github/link", params={"token": "guessed"})


def _forged_oauth_state(http: AsyncClient) -> Awaitable[Response]:
    return http.get(
        "/github/callback",
        params={"code": "c", "state": "guessed"},
        headers={"Cookie": "timetrack_github_oauth=guessed"},
    )


@pytest.mark.parametrize(
    "failure",
    [
        _wrong_token,
        _malformed_header,
        _dead_cookie,
        _spent_link,
        _wrong_cron_secret,
        _wrong_signature,
        _bad_github_start,
        _forged_oauth_state,
    ],
    ids=lambda failure: failure.__name__.strip("_"),
)
async def test_every_kind_of_refused_credential_counts(
    client: AsyncClient,
    valid: Credentials,
    frozen: Clock,
    failure: Callable[[AsyncClient], Awaitable[Response]],
) -> None:
    async with browser("192.0.2.44") as http:
        for _ in range(throttle.LIMIT):
            assert (await failure(http)).status_code in (200, 400, 401, 403), failure

        assert_throttled(await every_signing_in_route(valid)["token"](http), 60)
        assert_throttled(await failure(http), 60)


async def test_asking_without_any_credential_is_not_a_failure(
    client: AsyncClient, valid: Credentials, frozen: Clock
) -> None:
    async with browser("192.0.2.45") as http:
        for _ in range(throttle.LIMIT + 5):
            assert (await http.get("/api/me")).status_code == 401
            assert (await http.get("/api/cron/stop-stale")).status_code == 401

        assert (await every_signing_in_route(valid)["token"](http)).status_code == 200


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    client: AsyncClient, valid: Credentials, frozen: Clock
) -> None:
    async with browser("192.0.2.46") as http:
        for n in range(throttle.LIMIT):
            forged = {"Authorization": "Token tt_guessed", "X-Forwarded-For": f"10.9.8.{n}"}
            assert (await http.get("/api/me", headers=forged)).status_code == 401

        # Every one of them counted against the socket's peer, whatever the header claimed.
        throttled = await http.get(
            "/api/me",
            headers={"Authorization": f"Token {valid.token}", "X-Forwarded-For": "1.1.1.1"},
        )
        assert throttled.status_code == 429


async def test_behind_a_trusted_proxy_the_first_forwarded_hop_is_the_client(
    client: AsyncClient, valid: Credentials, frozen: Clock, settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.setenv("TIMETRACK_TRUSTED_PROXY", "1")
    get_settings.cache_clear()
    bearer = {"Authorization": f"Token {valid.token}"}
    async with browser("10.0.0.1") as proxy:  # every request arrives from the proxy
        for hop in range(throttle.LIMIT):
            chain = {"X-Forwarded-For": f"203.0.113.50, 10.1.1.{hop}"}
            await proxy.get("/api/me", headers={"Authorization": "Token tt_guessed", **chain})

        attacker = await proxy.get("/api/me", headers={**bearer, "X-Forwarded-For": "203.0.113.50"})
        someone_else = await proxy.get(
            "/api/me", headers={**bearer, "X-Forwarded-For": "203.0.113.51"}
        )
        unreadable = await proxy.get("/api/me", headers={**bearer, "X-Forwarded-For": "unknown"})

    assert attacker.status_code == 429
    assert someone_else.status_code == 200
    assert unreadable.status_code == 200  # the proxy itself, which nobody failed from


async def test_ipv6_addresses_count_per_64_block(
    client: AsyncClient, valid: Credentials, frozen: Clock
) -> None:
    for host in range(1, throttle.LIMIT + 1):
        async with browser(f"2001:db8:1:2::{host:x}") as http:
            await fail(http, 1)

    async with browser("2001:db8:1:2:ffff::1") as same_block:
        assert (await every_signing_in_route(valid)["token"](same_block)).status_code == 429
    async with browser("2001:db8:1:3::1") as next_block:
        assert (await every_signing_in_route(valid)["token"](next_block)).status_code == 200


async def test_the_count_is_shared_by_every_process(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    async with committed() as db, db.begin():
        _, token = await accounts.create_api_token(db, USER, "tests")
    # Two apps, as two processes or serverless instances would each have one.
    first, second = create_app(), create_app()

    async with browser("203.0.113.60", first) as one, browser("203.0.113.60", second) as other:
        await fail(one)
        response = await other.get("/api/me", headers={"Authorization": f"Token {token}"})

    assert_throttled(response, 60)


async def test_concurrent_failures_throttle_and_a_throttled_address_adds_nothing(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    async def count() -> int:
        async with committed() as db:
            return int(await db.scalar(select(func.count()).select_from(AuthFailure)) or 0)

    async with browser("203.0.113.61") as http:
        bad = {"Authorization": "Token tt_guessed"}
        answers = await asyncio.gather(*(http.get("/api/me", headers=bad) for _ in range(40)))
        assert {a.status_code for a in answers} <= {401, 429}
        assert (await http.get("/api/me", headers=bad)).status_code == 429
        recorded = await count()
        for _ in range(10):
            assert (await http.get("/api/me", headers=bad)).status_code == 429

    assert throttle.LIMIT <= recorded <= 40
    assert await count() == recorded


async def test_a_discord_request_is_checked_only_when_its_signature_fails(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    forged = discord_headers(PING, SigningKey(b"\x06" * 32))
    async with browser("203.0.113.62") as http:
        for _ in range(throttle.LIMIT):
            assert (
                await http.post("/api/discord", content=PING, headers=forged)
            ).status_code == 401

        refused = await http.post("/api/discord", content=PING, headers=forged)
        genuine = await http.post("/api/discord", content=PING, headers=discord_headers(PING))
        rest = await http.get("/api/me", headers={"Authorization": "Token tt_anything"})

    assert_throttled(refused, 60)
    # Only Discord can sign, so its own requests are answered without asking the database.
    assert genuine.json() == {"type": 1}
    assert rest.status_code == 429
