"""Linking a GitHub login through GitHub's OAuth web flow (GitHub itself faked with respx)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from httpx import AsyncClient, Response
from nacl.signing import SigningKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, events
from app.clock import Clock
from app.config import get_settings
from app.models import LinkPurpose, LoginLink
from server.auth import cookie as cookies
from server.integrations.github import oauth
from tests.github.conftest import GITHUB_API, GITHUB_WEB, fresh_user_id, link

BASE = "http://timetrack.test"
CLIENT_ID = "Iv1.client-for-tests"
CLIENT_SECRET = "client-secret-for-tests"
ACCESS_TOKEN = "gho_access_token_for_tests"


@pytest.fixture
def oauth_env(github_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    github_env.setenv("GITHUB_CLIENT_ID", CLIENT_ID)
    github_env.setenv("GITHUB_CLIENT_SECRET", CLIENT_SECRET)
    github_env.setenv("TIMETRACK_BASE_URL", BASE)
    get_settings.cache_clear()
    return github_env


@pytest.fixture
def github(oauth_env: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{GITHUB_WEB}/login/oauth/access_token", name="exchange").mock(
            return_value=Response(
                200, json={"access_token": ACCESS_TOKEN, "token_type": "bearer", "scope": ""}
            )
        )
        mock.get(f"{GITHUB_API}/user", name="user").mock(
            return_value=Response(200, json={"login": "Octo-Dev", "id": 583231})
        )
        yield mock


async def start_path(db: AsyncSession, user_id: str) -> str:
    """The path and query of a fresh `/github link` start link for `user_id`."""
    url = urlsplit(await accounts.create_github_link_start(db, user_id))
    assert f"{url.scheme}://{url.netloc}" == BASE
    return f"{url.path}?{url.query}"


def state_of(response: Response) -> str:
    assert response.status_code == 303, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["state"][0]


async def start(client: AsyncClient, db: AsyncSession, user_id: str) -> str:
    """Follow the Discord link for `user_id`; returns the state sent to GitHub."""
    return state_of(await client.get(await start_path(db, user_id)))


async def state_owner(db: AsyncSession, state: str) -> str:
    """The user a state names, read without spending it."""
    found = await db.scalar(
        select(LoginLink.user_id).where(
            LoginLink.token_hash == hashlib.sha256(state.encode()).hexdigest(),
            LoginLink.purpose == LinkPurpose.GITHUB_STATE,
        )
    )
    assert found is not None
    return found


async def github_login_of(db: AsyncSession, user_id: str) -> str | None:
    await db.flush()
    return (await accounts.get_user(db, user_id)).github_login


async def test_without_an_oauth_app_both_routes_say_not_configured(
    client: AsyncClient, github_env: pytest.MonkeyPatch
) -> None:
    for path in ("/github/link", "/github/callback?code=x&state=y"):
        response = await client.get(path)
        assert response.status_code == 503
        assert "not configured" in response.text
        assert "timetrack github link" in response.text


async def test_the_discord_link_redirects_to_github_with_a_one_time_state(
    client: AsyncClient, db: AsyncSession, oauth_env: pytest.MonkeyPatch
) -> None:
    user_id = fresh_user_id()

    response = await client.get(await start_path(db, user_id))

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{GITHUB_WEB}/login/oauth/authorize"
    )
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{BASE}/github/callback"]
    assert "scope" not in query  # reading the login needs no scope at all
    state = query["state"][0]
    assert await state_owner(db, state) == user_id
    cookie = response.headers["set-cookie"]
    assert f"{oauth.NONCE_COOKIE}={state}" in cookie
    assert "HttpOnly" in cookie and "Path=/github" in cookie and "samesite=lax" in cookie.lower()


async def test_the_discord_start_link_works_once(
    client: AsyncClient, db: AsyncSession, oauth_env: pytest.MonkeyPatch
) -> None:
    path = await start_path(db, fresh_user_id())

    first = await client.get(path)
    again = await client.get(path)

    assert first.status_code == 303
    assert again.status_code == 400
    assert "has been used" in again.text


async def test_the_page_cookie_starts_the_flow_for_the_signed_in_user(
    client: AsyncClient, db: AsyncSession, oauth_env: pytest.MonkeyPatch
) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    client.cookies.set(cookies.COOKIE_NAME, await accounts.create_sign_in(db, user_id))
    try:
        response = await client.get("/github/link")
    finally:
        client.cookies.clear()

    assert await state_owner(db, state_of(response)) == user_id


async def test_without_a_cookie_or_token_the_page_asks_to_sign_in(
    client: AsyncClient, oauth_env: pytest.MonkeyPatch
) -> None:
    response = await client.get("/github/link")
    assert response.status_code == 401
    assert "Sign in first" in response.text


async def test_a_forged_or_expired_start_link_is_refused(
    client: AsyncClient, db: AsyncSession, oauth_env: pytest.MonkeyPatch, frozen: Clock
) -> None:
    forged = await client.get("/github/link?token=someone.else.entirely")
    expired_path = await start_path(db, fresh_user_id())
    frozen.advance(accounts.LINK_LIFETIME.total_seconds())
    expired = await client.get(expired_path)

    for response in (forged, expired):
        assert response.status_code == 400
        assert "has expired or is not valid" in response.text


async def test_a_sign_in_link_cannot_start_a_github_link(
    client: AsyncClient, db: AsyncSession, oauth_env: pytest.MonkeyPatch
) -> None:
    sign_in_token = (await accounts.create_login_link(db, fresh_user_id())).rsplit("/", 1)[1]

    response = await client.get("/github/link", params={"token": sign_in_token})

    assert response.status_code == 400


async def test_the_callback_links_the_verified_login(
    client: AsyncClient, db: AsyncSession, github: respx.MockRouter
) -> None:
    user_id = fresh_user_id()
    state = await start(client, db, user_id)

    response = await client.get("/github/callback", params={"code": "code-123", "state": state})

    assert response.status_code == 200, response.text
    assert "Octo-Dev" in response.text
    assert await github_login_of(db, user_id) == "Octo-Dev"
    (exchange,) = github.routes["exchange"].calls
    assert exchange.request.headers["Accept"] == "application/json"
    form = parse_qs(exchange.request.content.decode())
    assert form == {
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "code": ["code-123"],
        "redirect_uri": [f"{BASE}/github/callback"],
    }
    (who,) = github.routes["user"].calls
    assert who.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert oauth.NONCE_COOKIE not in client.cookies  # used up


async def test_a_callback_in_another_browser_is_refused(
    client: AsyncClient, db: AsyncSession, github: respx.MockRouter
) -> None:
    user_id = fresh_user_id()
    state = await start(client, db, user_id)
    client.cookies.clear()  # the victim's browser never started this flow

    response = await client.get("/github/callback", params={"code": "c", "state": state})

    assert response.status_code == 400
    assert "another browser" in response.text
    assert not github.routes["exchange"].called
    assert await github_login_of(db, user_id) is None


async def test_the_state_works_once(
    client: AsyncClient, db: AsyncSession, github: respx.MockRouter
) -> None:
    user_id = fresh_user_id()
    state = await start(client, db, user_id)
    client.cookies.set(oauth.NONCE_COOKIE, state, path="/github")
    first = await client.get("/github/callback", params={"code": "c", "state": state})
    await accounts.unlink_github(db, user_id)
    client.cookies.set(oauth.NONCE_COOKIE, state, path="/github")

    replayed = await client.get("/github/callback", params={"code": "c2", "state": state})

    assert first.status_code == 200
    assert replayed.status_code == 400
    assert "already used" in replayed.text
    assert github.routes["exchange"].call_count == 1
    assert await github_login_of(db, user_id) is None


async def test_a_state_older_than_ten_minutes_is_refused(
    client: AsyncClient, db: AsyncSession, github: respx.MockRouter, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    state = await start(client, db, user_id)
    frozen.advance(accounts.LINK_LIFETIME.total_seconds())

    response = await client.get("/github/callback", params={"code": "c", "state": state})

    assert response.status_code == 400
    assert "expired" in response.text
    assert not github.routes["exchange"].called


@pytest.mark.parametrize(
    "params",
    [
        {"code": "c", "state": "tampered.state.value"},
        {"state": "no-code"},
        {"code": "no-state"},
        {"error": "access_denied", "error_description": "The user has denied your application"},
    ],
)
async def test_broken_or_cancelled_callbacks_change_nothing(
    client: AsyncClient, github: respx.MockRouter, params: dict[str, str]
) -> None:
    client.cookies.set(oauth.NONCE_COOKIE, params.get("state", ""), path="/github")
    response = await client.get("/github/callback", params=params)
    assert response.status_code == 400
    assert not github.routes["exchange"].called


async def test_a_refused_code_is_a_clear_502_page(
    client: AsyncClient, db: AsyncSession, github: respx.MockRouter
) -> None:
    user_id = fresh_user_id()
    state = await start(client, db, user_id)
    github.routes["exchange"].return_value = Response(
        200,
        json={"error": "bad_verification_code", "error_description": "The code is incorrect."},
    )

    response = await client.get("/github/callback", params={"code": "old", "state": state})

    assert response.status_code == 502
    assert "The code is incorrect." in response.text
    assert not github.routes["user"].called
    assert await github_login_of(db, user_id) is None


async def test_a_login_linked_to_someone_else_is_a_clear_409_page(
    client: AsyncClient, db: AsyncSession, github: respx.MockRouter
) -> None:
    holder = await link(db, "octo-dev")
    user_id = fresh_user_id()
    state = await start(client, db, user_id)

    response = await client.get("/github/callback", params={"code": "c", "state": state})

    assert response.status_code == 409
    assert "already linked to another user" in response.text
    assert await github_login_of(db, user_id) is None
    assert await github_login_of(db, holder) == "octo-dev"


async def test_discord_github_link_answers_a_private_link_button(
    live_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    interaction_key: SigningKey,
    oauth_env: pytest.MonkeyPatch,
) -> None:
    from tests.discord.support import assert_callback

    user_id = "1400000000000000777"
    body = {
        "id": "1900000000000000001",
        "application_id": "1100000000000000001",
        "type": 2,
        "token": "token-link",
        "version": 1,
        "channel_id": "1300000000000000003",
        "guild_id": "1200000000000000002",
        "member": {"user": {"id": user_id, "username": "octo", "discriminator": "0"}},
        "data": {
            "id": "1",
            "name": "github",
            "type": 1,
            "options": [{"name": "link", "type": 1}],
        },
    }
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    signature = interaction_key.sign(stamp.encode() + raw).signature.hex()
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Timestamp": stamp,
        "X-Signature-Ed25519": signature,
    }

    answer = (await live_client.post("/api/discord", content=raw, headers=headers)).json()

    assert_callback(answer)
    assert answer["type"] == 4
    assert answer["data"]["flags"] & 64
    (button,) = answer["data"]["components"][0]["components"]
    assert button["style"] == 5 and button["label"] == "Link GitHub"
    # The one-time start link went to Discord, and nowhere else: not into the stored answer.
    async with committed() as db:
        links = await db.scalar(
            select(func.count())
            .select_from(LoginLink)
            .where(LoginLink.user_id == user_id, LoginLink.purpose == LinkPurpose.GITHUB_LINK)
        )
        stored = await events.find(db, events.DISCORD_INTERACTION, body["id"])
    assert links == 1
    assert stored is not None and "/github/link" not in json.dumps(stored.response)
    assert button["url"].startswith(f"{BASE}/github/link?token=")
    started = await live_client.get(button["url"].removeprefix(BASE))
    state = state_of(started)
    async with committed() as db:
        assert await state_owner(db, state) == user_id
