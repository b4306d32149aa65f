"""The page's sign-in is a record on the server: the cookie holds a random token, only its
hash is stored, it lasts 30 days from the last visit, and ending it ends the cookie at once.
A sign-in link opened while signed in as someone else asks before it switches accounts."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app.clock import Clock
from app.models import SignIn
from server.auth import cookie as cookies
from tests.ops.conftest import run_timetrack

ADA = "300000000000000001"
BOB = "300000000000000002"


async def link_path(db: AsyncSession, user_id: str) -> str:
    """A fresh sign-in link; ADA is called 111 and BOB 222."""
    return urlsplit(await accounts.create_login_link(db, user_id, user_id[-1] * 3)).path


async def sign_in(client: AsyncClient, db: AsyncSession, user_id: str = ADA) -> str:
    """Follow a fresh link as a browser would; the cookie's token."""
    signed_in_as = await me(client) if cookies.COOKIE_NAME in client.cookies else None
    if signed_in_as is not None and signed_in_as[1] != user_id:
        client.cookies.clear()  # another browser, rather than a switch of accounts
    response = await client.get(await link_path(db, user_id))
    assert response.status_code == 303, response.text
    return client.cookies[cookies.COOKIE_NAME]


async def csrf_token(client: AsyncClient) -> str:
    page = await client.get("/")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match is not None, page.text
    return match[1]


def use(client: AsyncClient, token: str) -> AsyncClient:
    """The browser now sends this sign-in's cookie (as one that copied it would)."""
    client.cookies.clear()
    client.cookies.set(cookies.COOKIE_NAME, token)
    return client


async def me(client: AsyncClient, token: str | None = None) -> tuple[int, str | None]:
    """Who the cookie (this client's, or the token given) signs in; (status, user id)."""
    if token is not None:
        use(client, token)
    response = await client.get("/api/me")
    return response.status_code, response.json().get("id")


async def stored(db: AsyncSession, token: str) -> SignIn | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return await db.scalar(select(SignIn).where(SignIn.token_hash == digest))


# --- the record --------------------------------------------------------------------------


async def test_the_cookie_names_a_stored_sign_in_by_its_hash_only(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    token = await sign_in(client, db)

    record = await stored(db, token)
    assert record is not None
    assert record.user_id == ADA
    assert record.token_hash != token
    assert record.last_seen_at == frozen.now()
    assert record.expires_at == frozen.now() + timedelta(days=30)
    rows = (await db.execute(select(SignIn.token_hash))).scalars().all()
    assert token not in rows


async def test_signing_out_ends_the_sign_in_for_a_copy_of_the_cookie_too(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    token = await sign_in(client, db)
    csrf = await csrf_token(client)

    response = await client.post("/logout", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert await stored(db, token) is None
    # Someone who copied the cookie before the sign-out is refused on the very next call.
    refused = await use(client, token).get("/api/me")
    assert refused.status_code == 401
    # The browser is told to forget it, so its next calls do not fail again.
    assert f'{cookies.COOKIE_NAME}=""' in refused.headers["set-cookie"]


async def test_a_sign_in_lasts_thirty_days_from_the_last_visit(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    token = await sign_in(client, db)

    for _ in range(3):  # 87 days in all, never 30 without a visit
        frozen.advance(days=29)
        assert await me(client, token) == (200, ADA)
    page = await use(client, token).get("/")
    assert "Max-Age=2592000" in page.headers["set-cookie"]  # the cookie follows along

    frozen.advance(days=30)
    assert await me(client, token) == (401, None)


async def test_signing_out_everywhere_ends_every_sign_in_of_that_user_only(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    laptop = await sign_in(client, db)
    client.cookies.clear()  # another browser
    phone = await sign_in(client, db)
    bobs = await sign_in(client, db, BOB)
    csrf = await csrf_token(use(client, laptop))

    response = await client.post("/logout/everywhere", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert f'{cookies.COOKIE_NAME}=""' in response.headers["set-cookie"]
    assert await me(client, laptop) == (401, None)
    assert await me(client, phone) == (401, None)
    assert await me(client, bobs) == (200, BOB)


async def test_signing_out_everywhere_needs_the_csrf_token(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    token = await sign_in(client, db)

    response = await client.post("/logout/everywhere", data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert await me(client, token) == (200, ADA)


async def test_the_page_offers_signing_out_everywhere(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    await sign_in(client, db)

    page = (await client.get("/")).text

    assert 'action="/logout/everywhere"' in page


async def test_the_command_line_signs_a_user_out_everywhere(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async with committed() as db, db.begin():
        first = await accounts.create_sign_in(db, (await accounts.ensure_user(db, ADA)).id)
        second = await accounts.create_sign_in(db, ADA)
        bobs = await accounts.create_sign_in(db, (await accounts.ensure_user(db, BOB)).id)

    result = run_timetrack("logout", "--user", ADA, env={"DATABASE_URL": database_url})
    unknown = run_timetrack("logout", "--user", "nobody", env={"DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Signed user {ADA} out of 2 browsers."
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("timetrack: No user")
    async with committed() as db:
        assert await accounts.user_for_sign_in(db, first) is None
        assert await accounts.user_for_sign_in(db, second) is None
        assert await accounts.user_for_sign_in(db, bobs) is not None


# --- a link for someone else -------------------------------------------------------------


async def test_a_link_for_someone_else_asks_before_switching(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    await sign_in(client, db)
    path = await link_path(db, BOB)

    response = await client.get(path)

    assert response.status_code == 200
    assert "Switch to another account?" in response.text
    assert "<strong>111</strong>" in response.text  # who is signed in, by name
    assert "<strong>222</strong>" in response.text  # whom the link is for
    assert "set-cookie" not in response.headers
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert await me(client) == (200, ADA)
    # Asking spent nothing: the link still works once confirmed.
    assert await accounts.login_link_owner(db, path.rsplit("/", 1)[1]) == BOB


async def test_switching_needs_the_current_sign_ins_csrf_token(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    await sign_in(client, db)
    path = await link_path(db, BOB)

    forged = await client.post(path, data={"csrf_token": "from-another-site"})
    missing = await client.post(path)

    assert forged.status_code == 403
    assert missing.status_code == 403
    assert await me(client) == (200, ADA)


async def test_confirming_switches_and_ends_the_previous_sign_in(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    adas = await sign_in(client, db)
    csrf = await csrf_token(client)
    path = await link_path(db, BOB)

    response = await client.post(path, data={"csrf_token": csrf})

    assert response.status_code == 303
    assert await me(client) == (200, BOB)
    assert await stored(db, adas) is None
    again = await client.post(path, data={"csrf_token": await csrf_token(client)})
    assert again.status_code == 400  # the link is spent


async def test_ones_own_link_signs_in_afresh_without_asking(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    before = await sign_in(client, db)

    after = await sign_in(client, db)

    assert after != before
    assert await stored(db, before) is None
    assert await me(client) == (200, ADA)


async def test_a_spent_link_while_signed_in_changes_nothing(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    await sign_in(client, db)

    response = await client.get("/login/spent-or-never-made")

    assert response.status_code == 400
    assert await me(client) == (200, ADA)
