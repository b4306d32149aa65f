"""The page's sign-in: one-time links, the signed cookie, CSRF on unsafe methods, sign-out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.clock import Clock
from app.config import get_settings
from server.auth import cookie as cookies
from tests.api.conftest import ApiUser, error_of

USER = "200000000000000001"


async def link_path(db: AsyncSession, user_id: str = USER) -> str:
    return urlsplit(await accounts.create_login_link(db, user_id)).path


async def sign_in(client: AsyncClient, db: AsyncSession, user_id: str = USER) -> str:
    """Follow a fresh link; return the CSRF token the page embeds."""
    response = await client.get(await link_path(db, user_id))
    assert response.status_code == 303
    page = await client.get("/")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match is not None, page.text
    return match[1]


async def test_a_login_link_sets_a_safe_cookie_and_redirects_home(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    response = await client.get(await link_path(db))

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{cookies.COOKIE_NAME}=")
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie
    assert "Path=/" in set_cookie
    assert "Secure" not in set_cookie
    assert response.headers["cache-control"] == "no-store"

    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["id"] == USER


async def test_the_cookie_is_secure_when_the_base_url_is_https(
    client: AsyncClient, db: AsyncSession, settings_env: pytest.MonkeyPatch, frozen: Clock
) -> None:
    settings_env.setenv("TIMETRACK_BASE_URL", "https://timetrack.example")
    get_settings.cache_clear()

    response = await client.get(await link_path(db))

    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


async def test_a_login_link_works_once(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    path = await link_path(db)
    assert (await client.get(path)).status_code == 303
    client.cookies.clear()

    again = await client.get(path)

    assert again.status_code == 400
    assert again.headers["content-type"].startswith("text/html")
    assert "Ask for a new one" in again.text
    assert "set-cookie" not in again.headers
    assert (await client.get("/api/me")).status_code == 401


async def test_an_expired_login_link_is_400(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    path = await link_path(db)
    frozen.advance(10 * 60 + 1)

    response = await client.get(path)

    assert response.status_code == 400
    assert "new one" in response.text
    assert "timetrack login-link" in response.text


async def test_a_link_just_inside_ten_minutes_still_works(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    path = await link_path(db)
    frozen.advance(10 * 60 - 1)

    assert (await client.get(path)).status_code == 303


@pytest.mark.parametrize("token", ["nonsense", "x" * 500, "%00", "tt_%E2%9C%93"])
async def test_an_unknown_login_link_is_400(client: AsyncClient, token: str) -> None:
    response = await client.get(f"/login/{token}")

    assert response.status_code == 400


async def test_csrf_is_refused_without_the_header_and_accepted_with_it(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    csrf = await sign_in(client, db)

    missing = await client.post("/api/timelogs/start/", json={"subject": "web"})
    assert missing.status_code == 403
    assert error_of(missing)[0] == "csrf"

    wrong = await client.post(
        "/api/timelogs/start/", json={"subject": "web"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    assert error_of(wrong)[0] == "csrf"
    assert (await client.get("/api/timelogs/current/")).status_code == 204

    accepted = await client.post(
        "/api/timelogs/start/", json={"subject": "web"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201
    assert accepted.json()["source"] == "web"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/me", {"timezone": "UTC"}),
        ("PUT", "/api/allocations/x", {"hours": 1}),
        ("POST", "/api/timelogs/1/pause/", None),
        ("PATCH", "/api/timelogs/1/", {"goal": "x"}),
        ("DELETE", "/api/timelogs/1/", None),
    ],
)
async def test_every_unsafe_method_needs_csrf_under_the_cookie(
    client: AsyncClient, db: AsyncSession, frozen: Clock, method: str, path: str, body: object
) -> None:
    await sign_in(client, db)

    response = await client.request(method, path, json=body)

    assert response.status_code == 403
    assert error_of(response)[0] == "csrf"


async def test_safe_methods_need_no_csrf_under_the_cookie(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    await sign_in(client, db)

    for path in ("/api/me", "/api/timelogs/", "/api/allocations/", "/api/subjects/"):
        assert (await client.get(path)).status_code == 200, path


async def test_a_csrf_token_belongs_to_one_sign_in(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    first = await sign_in(client, db)
    second = await sign_in(client, db)
    assert first != second

    stale = await client.patch("/api/me", json={"timezone": "UTC"}, headers={"X-CSRF-Token": first})
    fresh = await client.patch(
        "/api/me", json={"timezone": "UTC"}, headers={"X-CSRF-Token": second}
    )

    assert stale.status_code == 403
    assert fresh.status_code == 200


async def test_a_tampered_cookie_is_401(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    await sign_in(client, db)
    value = client.cookies[cookies.COOKIE_NAME]
    client.cookies.clear()
    client.cookies.set(cookies.COOKIE_NAME, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))

    response = await client.get("/api/me")

    assert response.status_code == 401


async def test_a_cookie_for_another_user_cannot_be_forged(client: AsyncClient) -> None:
    client.cookies.set(cookies.COOKIE_NAME, '{"u": "1", "n": "x"}')

    assert (await client.get("/api/me")).status_code == 401


async def test_a_token_wins_over_the_cookie_and_needs_no_csrf(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, frozen: Clock
) -> None:
    await sign_in(client, db)

    response = await client.post(
        "/api/timelogs/start/", json={"subject": "script"}, headers=alice.headers
    )

    assert response.status_code == 201
    assert (await client.get("/api/me", headers=alice.headers)).json()["id"] == alice.id


async def test_sign_out_needs_csrf_then_clears_the_cookie(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    csrf = await sign_in(client, db)

    refused = await client.post("/logout")
    assert refused.status_code == 403
    assert (await client.get("/api/me")).status_code == 200

    response = await client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert f'{cookies.COOKIE_NAME}=""' in response.headers["set-cookie"]
    assert (await client.get("/api/me")).status_code == 401


async def test_sign_out_also_takes_the_header(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    csrf = await sign_in(client, db)

    response = await client.post("/logout", headers={"X-CSRF-Token": csrf})

    assert response.status_code == 303
    assert (await client.get("/api/me")).status_code == 401


async def test_sign_out_when_not_signed_in_just_goes_home(client: AsyncClient) -> None:
    response = await client.post("/logout")

    assert response.status_code == 303


async def test_a_chat_apps_link_preview_does_not_spend_the_link(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    path = await link_path(db)
    preview = "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"

    fetched = await client.get(path, headers={"User-Agent": preview})

    assert fetched.status_code == 200
    assert "set-cookie" not in fetched.headers
    assert (await client.get(path)).status_code == 303
