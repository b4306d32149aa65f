"""`/team` through the signed endpoint: who may create, join, share, leave, and the week
posted in the channel without pinging anyone."""

from __future__ import annotations

from typing import Any

from app.clock import Clock
from tests.discord.support import (
    ALICE,
    BOB,
    CHANNEL_ID,
    Discord,
    command,
    description,
    is_ephemeral,
)

MANAGE_SERVER = str(0x20 | 0x400)


def create_command(name: str, permissions: str | None = MANAGE_SERVER) -> dict[str, Any]:
    # `name` is also the helper's first parameter, so the option is added here.
    payload = command("team create")
    payload["data"]["options"][0]["options"] = [{"name": "name", "type": 3, "value": name}]
    if permissions is not None:
        payload["member"]["permissions"] = permissions
    return payload


async def create(discord: Discord, name: str = "Study hall") -> dict[str, Any]:
    return await discord.send(create_command(name))


async def test_creating_the_servers_team_needs_manage_server(discord: Discord) -> None:
    refused = await discord.send(create_command("Study hall", permissions=None))
    assert is_ephemeral(refused)
    assert "Manage Server" in refused["data"]["content"]
    # Nothing was created: nobody can join.
    assert "no team yet" in (await discord.run("team join", BOB))["data"]["content"]

    created = await create(discord)
    assert is_ephemeral(created)
    assert "you are its owner" in created["data"]["content"]
    again = await create(discord, "Another")
    assert "has a team already" in again["data"]["content"]


async def test_team_is_for_servers_only(discord: Discord) -> None:
    body = await discord.run("team join", guild=False)
    assert is_ephemeral(body)
    assert "server" in body["data"]["content"]


async def test_the_week_ranks_members_who_share_and_pings_nobody(
    discord: Discord, frozen: Clock
) -> None:
    await create(discord)
    await discord.run("team join", BOB)
    assert "already" in (await discord.run("team join", BOB))["data"]["content"]
    for user, subject, hours in ((ALICE, "Maths", "1h"), (BOB, "Thesis", "2h 30m")):
        await discord.run("session add", user, subject=subject, duration=hours, start="09:00")
    await discord.run("session add", BOB, subject="Diary", duration="5h", start="10:00")

    shared = await discord.run("team share", BOB, subjects="thesis, Thesis ,maths")
    assert is_ephemeral(shared)
    assert "**thesis**, **maths**" in shared["data"]["content"]

    week = await discord.run("team week", BOB)
    assert not is_ephemeral(week)
    assert week["data"]["allowed_mentions"] == {"parse": []}
    text = description(week)
    assert text.index("bob") < text.index("alice")  # ranked: 2h 30m before 1h
    assert "1. **bob**" in text and "2h 30m" in text and "Diary" not in text
    assert "**Team total** 3h 30m" in text
    assert week["data"]["embeds"][0]["title"] == "Study hall · week of Mon 16 Nov 2026"

    last_week = await discord.run("team week", BOB, week="2026-11-09")
    assert "Nothing shared" in description(last_week)

    left = await discord.run("team leave", BOB)
    assert "no longer sees" in left["data"]["content"]
    after = description(await discord.run("team week", ALICE))
    assert "bob" not in after
    assert "**Team total** 1h" in after
    outsider = await discord.run("team week", BOB)
    assert is_ephemeral(outsider)
    assert "/team join" in outsider["data"]["content"]


async def test_only_team_admins_choose_the_channel(discord: Discord) -> None:
    await create(discord)
    await discord.run("team join", BOB)

    refused = await discord.run("team channel", BOB, channel=CHANNEL_ID)
    assert is_ephemeral(refused)
    assert "owners and admins" in refused["data"]["content"]
    chosen = await discord.run("team channel", ALICE, channel=CHANNEL_ID)
    assert f"<#{CHANNEL_ID}>" in chosen["data"]["content"]
    assert chosen["data"]["allowed_mentions"] == {"parse": []}
