"""Slash commands end to end: signed request in, Discord-valid answer out, database after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app.clock import Clock
from app.models import SessionSource, SessionStatus, User, WeeklyAllocation
from tests.conftest import FROZEN_AT
from tests.discord.support import (
    ALICE,
    BOB,
    Discord,
    button_ids,
    card_session_id,
    description,
    is_ephemeral,
)

CONTEXTS = pytest.mark.parametrize("guild", [True, False], ids=["guild", "dm"])


def _content(body: dict[str, Any]) -> str:
    return str(body["data"].get("content") or "")


@CONTEXTS
async def test_session_in_posts_a_public_running_card(
    discord: Discord, sessions_of: Any, guild: bool
) -> None:
    body = await discord.run(
        "session in", guild=guild, subject="search_engine", purpose="finish web scraper"
    )

    assert body["type"] == 4
    assert not is_ephemeral(body)
    embed = body["data"]["embeds"][0]
    assert embed["title"] == "search\\_engine"  # escaped like all user text; shown as typed
    assert "Running" in embed["description"]
    assert "finish web scraper" in embed["description"]
    assert f"<t:{int(FROZEN_AT.timestamp())}:t>" in embed["description"]
    session_id = card_session_id(body)
    assert button_ids(body) == [
        f"pause:{session_id}",
        f"out:{session_id}",
        f"edit_purpose:{session_id}",
    ]
    [stored] = await sessions_of(ALICE)
    assert stored.id == session_id
    assert stored.status == SessionStatus.RUNNING
    assert stored.source == SessionSource.DISCORD
    assert stored.goal == "finish web scraper"


async def test_session_in_records_the_username(
    discord: Discord, committed: async_sessionmaker[AsyncSession]
) -> None:
    await discord.run("session in", subject="gym")
    async with committed() as db:
        user = await db.get(User, ALICE)
    assert user is not None
    assert user.username == "alice"


async def test_session_in_while_tracking_is_a_private_conflict(
    discord: Discord, sessions_of: Any
) -> None:
    await discord.run("session in", subject="search_engine")
    body = await discord.run("session in", subject="gym")

    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "already tracking search\\_engine" in _content(body)  # shown literally
    assert len(await sessions_of(ALICE)) == 1


async def test_session_in_with_a_blank_subject_is_a_private_error(
    discord: Discord, sessions_of: Any
) -> None:
    body = await discord.run("session in", subject="   ")
    assert is_ephemeral(body)
    assert "subject" in _content(body).lower()
    assert await sessions_of(ALICE) == []


@CONTEXTS
async def test_pause_resume_out_and_status(
    discord: Discord, sessions_of: Any, frozen: Clock, guild: bool
) -> None:
    started = await discord.run("session in", guild=guild, subject="search_engine")
    session_id = card_session_id(started)

    frozen.advance(minutes=50)
    paused = await discord.run("session pause", guild=guild)
    assert paused["type"] == 4
    assert not is_ephemeral(paused)
    assert "Paused" in description(paused)
    assert button_ids(paused) == [
        f"resume:{session_id}",
        f"out:{session_id}",
        f"edit_purpose:{session_id}",
    ]

    frozen.advance(minutes=10)
    again = await discord.run("session pause", guild=guild)
    assert _content(again) == "Already paused."
    assert not is_ephemeral(again)

    resumed = await discord.run("session resume", guild=guild)
    assert "Running" in description(resumed)
    assert "Paused: 10m" in description(resumed)

    frozen.advance(minutes=30)
    status = await discord.run("session status", guild=guild)
    assert not is_ephemeral(status)
    assert "Worked so far: **1h 20m**" in description(status)

    ended = await discord.run("session out", guild=guild, purpose="scraper done")
    text = description(ended)
    assert "Measured: 1h 30m" in text
    assert "Paused: 10m" in text
    assert "Effective: **1h 20m**" in text
    assert "scraper done" in text
    assert button_ids(ended) == [
        f"confirm:{session_id}",
        f"reopen:{session_id}",
        f"adjust_time:{session_id}",
        f"edit_purpose:{session_id}",
    ]
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.ENDED_UNCONFIRMED
    assert stored.goal == "scraper done"
    assert stored.total_paused_seconds == 600


async def test_out_while_paused_accrues_the_pause(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    await discord.run("session in", subject="gym")
    frozen.advance(minutes=20)
    await discord.run("session pause")
    frozen.advance(minutes=15)
    ended = await discord.run("session out")
    assert "Effective: **20m**" in description(ended)
    [stored] = await sessions_of(ALICE)
    assert stored.total_paused_seconds == 900


async def test_resume_while_running_says_so(discord: Discord) -> None:
    await discord.run("session in", subject="gym")
    body = await discord.run("session resume")
    assert _content(body) == "Already running."
    assert "Running" in description(body)


@pytest.mark.parametrize("sub", ["pause", "resume", "out", "status"])
@CONTEXTS
async def test_session_commands_without_a_session_hint_at_session_in(
    discord: Discord, sessions_of: Any, sub: str, guild: bool
) -> None:
    body = await discord.run(f"session {sub}", guild=guild)
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "/session in" in _content(body)
    assert await sessions_of(ALICE) == []


async def test_commands_act_on_the_callers_session_only(discord: Discord, sessions_of: Any) -> None:
    await discord.run("session in", ALICE, subject="search_engine")
    body = await discord.run("session pause", BOB)
    assert is_ephemeral(body)
    [alice] = await sessions_of(ALICE)
    assert alice.status == SessionStatus.RUNNING


@CONTEXTS
async def test_alloc_set_and_show(discord: Discord, frozen: Clock, guild: bool) -> None:
    body = await discord.run("alloc set", guild=guild, subject="search_engine", hours=6)
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert _content(body) == "Planned 6h for **search\\_engine** this week."
    report = body["data"]["embeds"][0]
    # Wednesday 2026-11-18 01:00 UTC is noon on Wednesday in Sydney: week of Monday 16th.
    assert report["title"] == "Week of Mon 16 Nov 2026"
    assert "`░░░░░░░░░░` 0m / 6h · 6h left" in report["description"]
    assert "Australia/Sydney" in report["footer"]["text"]

    await discord.run("session in", guild=guild, subject="Search_Engine")
    frozen.advance(hours=1, minutes=30)
    await discord.run("session out", guild=guild)
    await discord.run("session in", guild=guild, subject="gym")
    frozen.advance(minutes=45)

    shown = await discord.run("alloc show", guild=guild)
    assert is_ephemeral(shown)
    text = description(shown)
    assert "**search\\_engine**\n`▓▓░░░░░░░░` 1h 30m / 6h · 4h 30m left" in text
    assert "**gym** · unplanned\n45m tracked" in text
    assert "**Total** 2h 15m / 6h · 4h 30m left" in text


async def test_alloc_set_fractional_hours_and_removal(
    discord: Discord, committed: async_sessionmaker[AsyncSession]
) -> None:
    body = await discord.run("alloc set", subject="gym", hours=1.5)
    assert _content(body) == "Planned 1h 30m for **gym** this week."
    removed = await discord.run("alloc set", subject="gym", hours=0)
    assert _content(removed) == "Removed **gym** from this week's plan."
    assert "Nothing planned or tracked in this week" in description(removed)
    async with committed() as db:
        assert (await db.execute(select(WeeklyAllocation))).first() is None


@pytest.mark.parametrize("hours", [-1, 168.5, 1000])
async def test_alloc_set_out_of_range_is_a_private_error(
    discord: Discord, committed: async_sessionmaker[AsyncSession], hours: float
) -> None:
    body = await discord.run("alloc set", subject="gym", hours=hours)
    assert is_ephemeral(body)
    assert "between 0 and 168" in _content(body)
    async with committed() as db:
        assert (await db.execute(select(WeeklyAllocation))).first() is None


async def test_alloc_show_on_an_empty_week(discord: Discord) -> None:
    body = await discord.run("alloc show", guild=False)
    assert is_ephemeral(body)
    assert "Nothing planned or tracked in this week" in description(body)


@CONTEXTS
async def test_settings_timezone(
    discord: Discord, committed: async_sessionmaker[AsyncSession], guild: bool
) -> None:
    body = await discord.run("settings timezone", guild=guild, zone="Europe/Berlin")
    assert is_ephemeral(body)
    assert "Europe/Berlin" in _content(body)
    async with committed() as db:
        user = await db.get(User, ALICE)
    assert user is not None
    assert user.timezone == "Europe/Berlin"

    shown = await discord.run("alloc show", guild=guild)
    assert "Europe/Berlin" in shown["data"]["embeds"][0]["footer"]["text"]


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "localtime", "Factory", "posixrules", "posix/Europe/Berlin"]
)
async def test_settings_timezone_rejects_zones_that_are_no_place(
    discord: Discord, committed: async_sessionmaker[AsyncSession], zone: str
) -> None:
    body = await discord.run("settings timezone", zone=zone)
    assert is_ephemeral(body)
    assert "not a timezone" in _content(body)
    async with committed() as db:
        user = await db.get(User, ALICE)
    assert user is None or user.timezone == "Australia/Sydney"


@CONTEXTS
async def test_web_sends_a_private_one_time_link(
    discord: Discord, committed: async_sessionmaker[AsyncSession], guild: bool
) -> None:
    body = await discord.run("web", guild=guild)
    assert body["type"] == 4
    assert is_ephemeral(body)
    [row] = body["data"]["components"]
    [link] = row["components"]
    assert link["style"] == 5
    url = link["url"]
    assert url.startswith("http://127.0.0.1:8000/login/")
    assert url in _content(body)
    async with committed() as db, db.begin():
        user = await accounts.consume_login_link(db, url.rsplit("/", 1)[1])
    assert user.id == ALICE


async def test_github_link_when_not_configured(discord: Discord) -> None:
    body = await discord.run("github link")
    assert is_ephemeral(body)
    assert _content(body) == "GitHub linking is not configured on this server."


async def test_github_unlink(discord: Discord, committed: async_sessionmaker[AsyncSession]) -> None:
    nothing = await discord.run("github unlink", guild=False)
    assert is_ephemeral(nothing)
    assert "No GitHub account is linked" in _content(nothing)

    async with committed() as db, db.begin():
        await accounts.link_github(db, ALICE, "octocat")
    body = await discord.run("github unlink", guild=False)
    assert is_ephemeral(body)
    assert "octocat" in _content(body)
    async with committed() as db:
        user = await db.get(User, ALICE)
    assert user is not None
    assert user.github_login is None


async def test_unknown_command_is_a_private_error(discord: Discord) -> None:
    body = await discord.run("teleport")
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "don't know that command" in _content(body)
    body = await discord.run("session teleport")
    assert is_ephemeral(body)


async def test_user_text_cannot_ping_or_break_markdown(discord: Discord) -> None:
    body = await discord.run("session in", subject="**@everyone**", purpose="[x](http://evil)")
    assert body["data"]["allowed_mentions"] == {"parse": []}
    text = description(body)
    assert "\\[x\\]\\(http://evil\\)" in text
    # Escaped, so Discord shows the name exactly as typed, not bold.
    assert body["data"]["embeds"][0]["title"] == "\\*\\*@everyone\\*\\*"
