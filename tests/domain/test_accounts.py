"""Users, timezones, subjects, API tokens, login links and GitHub links."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, timezones
from app import session as sessions
from app.clock import Clock
from app.config import get_settings
from app.errors import Conflict, InvalidInput, NotFound
from app.models import SessionSource
from tests.domain.conftest import fresh_user_id


async def _one(db: AsyncSession, sql: str, **params: object) -> dict[str, object]:
    await db.flush()
    return dict((await db.execute(text(sql), params)).mappings().one())


# Users ---------------------------------------------------------------------------------


async def test_ensure_user_creates_once_and_keeps_the_first_username(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    created = await accounts.ensure_user(db, user_id, "ada")
    assert created.id == user_id
    assert created.username == "ada"
    assert created.timezone == get_settings().default_timezone

    again = await accounts.ensure_user(db, user_id)
    assert again.username == "ada"
    renamed = await accounts.ensure_user(db, user_id, "ada_l")
    assert renamed.username == "ada_l"
    assert await accounts.ensure_user(db, user_id, None) is not None
    row = await _one(
        db, "SELECT username, count(*) OVER () AS n FROM users WHERE id = :id", id=user_id
    )
    assert row == {"username": "ada_l", "n": 1}


async def test_locking_a_known_user_writes_no_new_row_version(db: AsyncSession) -> None:
    """The lock every mutation takes first: a row version is written only for a new user or
    a new username (a new version would have a new ctid)."""
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id, "ada")
    where = "SELECT ctid::text AS at FROM users WHERE id = :id"
    first = await _one(db, where, id=user_id)

    await accounts.ensure_user(db, user_id, "ada")
    await accounts.ensure_user(db, user_id)
    await accounts.lock_user(db, user_id, "ada")
    await accounts.lock_user(db, user_id)
    assert await _one(db, where, id=user_id) == first

    await accounts.lock_user(db, user_id, "ada_l")
    renamed = await _one(db, where, id=user_id)
    assert renamed != first
    assert (await accounts.get_user(db, user_id)).username == "ada_l"
    await accounts.ensure_user(db, user_id, "ada")
    assert await _one(db, where, id=user_id) != renamed


async def test_lock_user_creates_a_new_user(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    await accounts.lock_user(db, user_id, "grace")
    user = await accounts.get_user(db, user_id)
    assert (user.username, user.timezone) == ("grace", get_settings().default_timezone)
    with pytest.raises(InvalidInput):
        await accounts.lock_user(db, " padded ")


async def test_get_user_of_unknown_id_is_not_found(db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await accounts.get_user(db, fresh_user_id("nobody"))


@pytest.mark.parametrize("user_id", ["", "   ", "x" * 65])
async def test_ensure_user_rejects_bad_ids(db: AsyncSession, user_id: str) -> None:
    with pytest.raises(InvalidInput):
        await accounts.ensure_user(db, user_id)


# Timezones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Australia/Sydney", "Pacific/Honolulu", "Pacific/Kiritimati", "UTC", "Europe/London"],
)
async def test_valid_timezones_are_accepted_and_stored(db: AsyncSession, name: str) -> None:
    user_id = fresh_user_id()
    assert timezones.validate(f"  {name} ") == name
    user = await accounts.set_timezone(db, user_id, name)
    assert user.timezone == name
    assert await accounts.timezone_of(db, user_id) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "Mars/Olympus_Mons",
        "Sydney",
        "Australia/",
        "../../etc/passwd",
        "/etc/localtime",
        "zone.tab",
        "Australia/Sydney\x00",
        "x" * 300,
        "+10:00",
        "localtime",
        "Factory",
        "posixrules",
    ],
)
async def test_junk_timezones_are_invalid_input(db: AsyncSession, name: str) -> None:
    user_id = fresh_user_id()
    await accounts.set_timezone(db, user_id, "Pacific/Honolulu")
    with pytest.raises(InvalidInput) as refused:
        await accounts.set_timezone(db, user_id, name)
    assert len(refused.value.detail) < 200
    assert await accounts.timezone_of(db, user_id) == "Pacific/Honolulu"


async def test_timezone_of_an_unknown_user_is_the_default(db: AsyncSession) -> None:
    assert await accounts.timezone_of(db, fresh_user_id()) == get_settings().default_timezone


def test_timezone_names_for_autocomplete() -> None:
    names = timezones.names("sydney")
    assert names[0] == "Australia/Sydney"
    assert all("sydney" in name.lower() for name in names)
    assert timezones.names("new york")[0] == "America/New_York"
    assert len(timezones.names("", limit=25)) == 25
    assert timezones.names("no such place") == []


# Subjects ------------------------------------------------------------------------------


async def test_subjects_are_found_ignoring_case_and_keep_the_first_spelling(
    db: AsyncSession,
) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    first = await accounts.find_or_create_subject(db, user_id, "  Search   Engine ")
    assert first.name == "Search Engine"
    again = await accounts.find_or_create_subject(db, user_id, "SEARCH engine")
    assert again.id == first.id
    assert again.name == "Search Engine"
    found = await accounts.existing_subject(db, user_id, "search engine")
    assert found is not None and found.id == first.id
    assert await accounts.existing_subject(db, user_id, "Other") is None


async def test_subjects_are_per_user(db: AsyncSession) -> None:
    alice, bob = fresh_user_id("alice"), fresh_user_id("bob")
    for user_id in (alice, bob):
        await accounts.ensure_user(db, user_id)
    mine = await accounts.find_or_create_subject(db, alice, "Gym")
    theirs = await accounts.find_or_create_subject(db, bob, "gym")
    assert mine.id != theirs.id
    assert theirs.name == "gym"


async def test_subject_name_length_limits(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    assert (await accounts.find_or_create_subject(db, user_id, "y" * 64)).name == "y" * 64
    assert (await accounts.find_or_create_subject(db, user_id, f"  {'z' * 64}  ")).name == "z" * 64
    for bad in ("x" * 65, "", "   ", "\t\n"):
        with pytest.raises(InvalidInput):
            await accounts.find_or_create_subject(db, user_id, bad)


async def test_subject_names_most_recently_used_first(db: AsyncSession, frozen: Clock) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    for name in ("Zoology", "algebra", "Botany"):
        await accounts.find_or_create_subject(db, user_id, name)
    for name in ("Botany", "Zoology"):
        started = await sessions.clock_in(db, user_id, name, source=SessionSource.WEB)
        frozen.advance(60)
        await sessions.clock_out(db, user_id, started.id)

    assert list(await accounts.subject_names(db, user_id)) == ["Zoology", "Botany", "algebra"]
    assert list(await accounts.subject_names(db, user_id, "O")) == ["Zoology", "Botany"]
    assert list(await accounts.subject_names(db, user_id, limit=1)) == ["Zoology"]


# API tokens ----------------------------------------------------------------------------


async def test_token_plain_text_is_never_stored(db: AsyncSession, frozen: Clock) -> None:
    user_id = fresh_user_id()
    token, plain = await accounts.create_api_token(db, user_id, "laptop")
    assert plain.startswith(accounts.TOKEN_PREFIX)
    row = await _one(db, "SELECT * FROM api_tokens WHERE id = :id", id=token.id)
    assert row["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in {str(value) for value in row.values()}
    assert row["name"] == "laptop"
    assert row["last_used_at"] is None

    _, other = await accounts.create_api_token(db, user_id, "phone")
    assert other != plain


async def test_user_for_token_marks_it_used(db: AsyncSession, frozen: Clock) -> None:
    user_id = fresh_user_id()
    token, plain = await accounts.create_api_token(db, user_id)
    used_at = frozen.advance(3600)

    user = await accounts.user_for_token(db, plain)

    assert user is not None and user.id == user_id
    row = await _one(db, "SELECT last_used_at FROM api_tokens WHERE id = :id", id=token.id)
    assert row["last_used_at"] == used_at


@pytest.mark.parametrize("plain", ["", "tt_", "tt_not-a-real-token", "Bearer x", "nope"])
async def test_unknown_tokens_find_nobody(db: AsyncSession, frozen: Clock, plain: str) -> None:
    await accounts.create_api_token(db, fresh_user_id())
    assert await accounts.user_for_token(db, plain) is None


async def test_revoked_token_finds_nobody_and_revoking_twice_conflicts(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    token, plain = await accounts.create_api_token(db, user_id)
    _, kept = await accounts.create_api_token(db, user_id)
    revoked_at = frozen.advance(60)

    await accounts.revoke_api_token(db, token.id)

    assert await accounts.user_for_token(db, plain) is None
    row = await _one(
        db, "SELECT revoked_at, last_used_at FROM api_tokens WHERE id = :id", id=token.id
    )
    assert row == {"revoked_at": revoked_at, "last_used_at": None}
    with pytest.raises(Conflict):
        await accounts.revoke_api_token(db, token.id)
    # The user's other token still works.
    assert (await accounts.user_for_token(db, kept)) is not None


async def test_revoking_an_unknown_token_is_not_found(db: AsyncSession, frozen: Clock) -> None:
    with pytest.raises(NotFound):
        await accounts.revoke_api_token(db, 10**12)


# Login links ---------------------------------------------------------------------------


def _plain_of(url: str) -> str:
    prefix = f"{get_settings().base_url}/login/"
    assert url.startswith(prefix)
    return url.removeprefix(prefix)


async def test_login_link_is_single_use(db: AsyncSession, frozen: Clock) -> None:
    user_id = fresh_user_id()
    plain = _plain_of(await accounts.create_login_link(db, user_id, "ada"))
    row = await _one(
        db, "SELECT token_hash, expires_at FROM login_links WHERE user_id = :u", u=user_id
    )
    assert row["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert row["expires_at"] == frozen.now() + timedelta(minutes=10)

    frozen.advance(30)
    user = await accounts.consume_login_link(db, plain)
    assert user.id == user_id
    assert user.username == "ada"
    with pytest.raises(InvalidInput):
        await accounts.consume_login_link(db, plain)


async def test_login_link_expires_after_ten_minutes(db: AsyncSession, frozen: Clock) -> None:
    user_id = fresh_user_id()
    almost = _plain_of(await accounts.create_login_link(db, user_id))
    late = _plain_of(await accounts.create_login_link(db, user_id))

    frozen.advance(10 * 60 - 1)
    assert (await accounts.consume_login_link(db, almost)).id == user_id
    frozen.advance(1)
    with pytest.raises(InvalidInput):
        await accounts.consume_login_link(db, late)


@pytest.mark.parametrize("plain", ["", "unknown", "x" * 500])
async def test_unknown_login_link_is_invalid_input(
    db: AsyncSession, frozen: Clock, plain: str
) -> None:
    with pytest.raises(InvalidInput):
        await accounts.consume_login_link(db, plain)


# GitHub links --------------------------------------------------------------------------


async def test_link_github_one_login_per_user_ignoring_case(db: AsyncSession) -> None:
    alice, bob = fresh_user_id("alice"), fresh_user_id("bob")
    linked = await accounts.link_github(db, alice, " Octo-Cat ")
    assert linked.github_login == "Octo-Cat"
    found = await accounts.user_for_github_login(db, "octo-cat")
    assert found is not None and found.id == alice

    with pytest.raises(Conflict):
        await accounts.link_github(db, bob, "OCTO-CAT")
    assert await accounts.user_for_github_login(db, "Octo-Cat") is not None
    assert (await accounts.ensure_user(db, bob)).github_login is None

    # Relinking one's own login (any case) is fine; a new login replaces the old one.
    assert (await accounts.link_github(db, alice, "octo-cat")).github_login == "octo-cat"
    assert (await accounts.link_github(db, alice, "hubot")).github_login == "hubot"
    assert await accounts.user_for_github_login(db, "octo-cat") is None
    # Now free, the old login can go to Bob.
    assert (await accounts.link_github(db, bob, "Octo-Cat")).github_login == "Octo-Cat"


async def test_unlink_github_frees_the_login(db: AsyncSession) -> None:
    alice, bob = fresh_user_id("alice"), fresh_user_id("bob")
    await accounts.link_github(db, alice, "monalisa")
    unlinked = await accounts.unlink_github(db, alice)
    assert unlinked.github_login is None
    assert await accounts.user_for_github_login(db, "monalisa") is None
    assert (await accounts.link_github(db, bob, "monalisa")).id == bob


@pytest.mark.parametrize("login", ["", "   "])
async def test_link_github_needs_a_login(db: AsyncSession, login: str) -> None:
    with pytest.raises(InvalidInput):
        await accounts.link_github(db, fresh_user_id(), login)


@pytest.mark.parametrize("bad", ["a\x00b", "bad \ud800 text"])
async def test_text_postgres_cannot_store_is_the_users_mistake(db: AsyncSession, bad: str) -> None:
    user = fresh_user_id()
    with pytest.raises(InvalidInput):
        await accounts.find_or_create_subject(db, user, bad)
    with pytest.raises(InvalidInput):
        await sessions.clock_in(db, user, "Maths", bad, source=SessionSource.API)
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    with pytest.raises(InvalidInput):
        await sessions.edit_note(db, user, started.id, bad)
    with pytest.raises(InvalidInput):
        await sessions.edit_goal(db, user, started.id, bad)
