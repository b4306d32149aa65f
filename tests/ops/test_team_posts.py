"""A team's week goes to its channel at the first tick on or after Monday 08:00 in the
team's timezone, once; `timetrack team post` posts it on demand."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import entries, teams
from app.clock import Clock, clock
from app.db import transaction
from app.weeks import week_start_for
from server.cron.tick import tick
from tests.inbox import Inbox, assert_message
from tests.local_http import serving as serving_locally
from tests.ops.conftest import fresh_user_id, run_timetrack
from tests.ops.test_summaries import local

CHANNEL = "1300000000000000042"
MONDAY = date(2026, 11, 16)
# Monday 23 November, 08:00 in Sydney.
DUE = datetime(2026, 11, 22, 21, tzinfo=UTC)


async def a_team_with_a_week(monday: date = MONDAY) -> tuple[int, str, str]:
    owner, member = fresh_user_id("owner"), fresh_user_id("member")
    async with transaction() as db:
        created = await teams.create(db, owner, "Study hall", username="ana")
        url, _ = await teams.create_invite(db, owner, created.team.id)
        await teams.join_by_invite(db, member, url.rsplit("/", 1)[1], username="ben")
        await teams.set_channel(db, owner, created.team.id, CHANNEL)
        start = local("Australia/Sydney", monday, 9)
        await entries.add(db, owner, "Maths", start, start + timedelta(hours=1))
        await entries.add(db, member, "Thesis", start, start + timedelta(hours=3))
        # Members' time is added after the fact: the week after has some too.
        later = start + timedelta(days=8)
        if later + timedelta(hours=2) <= clock.now():
            await entries.add(db, member, "Thesis", later, later + timedelta(hours=2))
    return created.team.id, owner, member


async def test_the_week_is_posted_once_at_the_first_tick_after_monday_eight(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    frozen.freeze(DUE + timedelta(days=7, hours=-1))
    await a_team_with_a_week()

    frozen.freeze(DUE - timedelta(minutes=1))
    assert (await tick()).team_posts == 0
    frozen.freeze(DUE)
    assert (await tick()).team_posts == 1
    frozen.freeze(DUE + timedelta(minutes=5))
    assert (await tick()).team_posts == 0
    # Two ticks at once still post the next week once.
    frozen.freeze(DUE + timedelta(days=7))
    results = await asyncio.gather(tick(), tick())
    assert sorted(result.team_posts for result in results) == [0, 1]

    posts = inbox.to(f"#{CHANNEL}")
    assert len(posts) == 2
    first = posts[0]
    assert first["allowed_mentions"] == {"parse": []}
    text = first["embeds"][0]["description"]
    assert text.index("ben") < text.index("ana")
    assert "**Team total** 4h" in text
    assert first["embeds"][0]["title"] == "Study hall · week of Mon 16 Nov 2026"
    assert "**Team total** 2h" in posts[1]["embeds"][0]["description"]


async def test_a_team_without_a_channel_posts_nothing(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    owner = fresh_user_id("owner")
    async with transaction() as db:
        await teams.create(db, owner, "Quiet")
    frozen.freeze(DUE)
    assert (await tick()).team_posts == 0
    assert inbox.delivered == []


async def test_the_command_line_refuses_a_team_without_a_channel(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    owner = fresh_user_id("owner")
    async with transaction() as db:
        created = await teams.create(db, owner, "Quiet")
    env = {"DATABASE_URL": database_url, "DISCORD_BOT_TOKEN": "token"}

    result = await asyncio.to_thread(
        run_timetrack, "team", "post", "--team", str(created.team.id), env=env
    )
    assert result.returncode == 1
    assert "no channel yet" in result.stderr
    missing = await asyncio.to_thread(run_timetrack, "team", "post", "--team", "999999", env=env)
    assert missing.returncode == 1
    assert "No team 999999" in missing.stderr


async def test_the_command_line_posts_last_week_now(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    # The child process reads the real clock: last week is the one before today's there.
    previous = week_start_for("Australia/Sydney", clock.now()) - timedelta(days=7)
    team_id, _, _ = await a_team_with_a_week(previous)
    posted: list[tuple[str, str, dict[str, Any]]] = []

    def discord(method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        posted.append((path, headers["Authorization"], json.loads(body)))
        return 200, {"id": "1"}

    with serving_locally(discord) as api:
        env = {
            "DATABASE_URL": database_url,
            "DISCORD_BOT_TOKEN": "bot-token",
            "DISCORD_API_BASE": api,
        }
        result = await asyncio.to_thread(
            run_timetrack, "team", "post", "--team", str(team_id), env=env
        )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Posted Study hall's week of {previous.isoformat()}."
    ((path, authorization, message),) = posted
    assert (path, authorization) == (f"/channels/{CHANNEL}/messages", "Bot bot-token")
    assert_message(message)
    assert "**Team total** 4h" in message["embeds"][0]["description"]
