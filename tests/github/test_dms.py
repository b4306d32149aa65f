"""DMs after the commit: session cards, the Switch offer, and failures that never matter."""

from __future__ import annotations

import pytest
import respx
from httpx import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import session as sessions
from app.models import SessionSource
from tests.github.conftest import (
    ISSUE,
    LABEL,
    Hook,
    assigned,
    dm_bodies,
    dm_recipients,
    link,
    payload,
    retarget,
    track_issue,
)

# --- DMs ---------------------------------------------------------------------------------


async def test_started_and_stopped_sessions_are_dmed_after_commit(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter
) -> None:
    user_id = await link(db, "Codertocat")

    started = await hook.send("issues", assigned())
    closed = await hook.send("issues", payload("issues.closed"))

    assert started.json()["status"] == "started"
    assert closed.json()["status"] == "stopped"
    assert dm_recipients(discord_bot) == [user_id, user_id]
    first, second = dm_bodies(discord_bot)
    assert f"assigned **{LABEL}**" in first["content"]
    assert first["embeds"][0]["footer"]["text"] == f"Session {started.json()['session_id']}"
    assert {c["custom_id"] for c in first["components"][0]["components"]} == {
        f"pause:{started.json()['session_id']}",
        f"out:{started.json()['session_id']}",
        f"edit_purpose:{started.json()['session_id']}",
    }
    assert "was closed" in second["content"]
    assert any(c["custom_id"].startswith("confirm:") for c in second["components"][0]["components"])
    auth = discord_bot.routes["open_dm"].calls[0].request.headers["Authorization"]
    assert auth == "Bot bot-token-for-tests"


async def test_the_switch_offer_is_dmed_with_a_short_switch_button(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter
) -> None:
    user_id = await link(db, "Codertocat")
    other = await sessions.clock_in(db, user_id, "Thesis", None, source=SessionSource.WEB)

    response = await hook.send("issues", assigned(), delivery="offer-2")

    assert "offered by DM" in response.json()["detail"]
    offers = await db.execute(
        text("SELECT id, user_id, github_repo, github_issue_number FROM switch_offers")
    )
    (offer,) = offers.mappings().all()
    assert (offer["user_id"], offer["github_repo"], offer["github_issue_number"]) == (
        user_id,
        ISSUE.repo,
        1,
    )
    (message,) = dm_bodies(discord_bot)
    assert dm_recipients(discord_bot) == [user_id]
    assert f"assigned **{LABEL}**" in message["content"]
    assert "while you track **Thesis**" in message["content"]
    card_row, switch_row = message["components"]
    assert f"out:{other.id}" in {c["custom_id"] for c in card_row["components"]}
    switch, open_issue = switch_row["components"]
    assert switch["custom_id"] == f"switch:{offer['id']}"
    assert len(switch["custom_id"]) <= 100
    assert open_issue["url"] == ISSUE.url


async def test_closed_dms_never_fail_the_webhook(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter
) -> None:
    user_id = await link(db, "Codertocat")
    discord_bot.routes["open_dm"].mock(
        side_effect=None,
        return_value=Response(403, json={"message": "Cannot send messages to this user"}),
    )

    response = await hook.send("issues", assigned())

    assert response.status_code == 200
    assert response.json()["status"] == "started"
    assert await sessions.current(db, user_id) is not None
    assert not discord_bot.routes["dm_message"].called


async def test_a_discord_outage_never_fails_the_webhook(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter
) -> None:
    await link(db, "Codertocat")
    discord_bot.routes["open_dm"].mock(side_effect=ConnectionError("down"))

    response = await hook.send("issues", assigned())

    assert response.status_code == 200
    assert response.json()["status"] == "started"


async def test_no_dm_without_a_bot_token(hook: Hook, db: AsyncSession) -> None:
    await link(db, "Codertocat")
    with respx.mock(assert_all_called=False) as anything:
        response = await hook.send("issues", assigned())
    assert response.json()["status"] == "started"
    assert not anything.calls


@pytest.mark.parametrize(
    ("fixture", "says"),
    [("issues.unassigned", "you were unassigned from"), ("issues.closed", "was closed")],
)
async def test_the_stop_dm_says_why(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter, fixture: str, says: str
) -> None:
    user_id = await link(db, "Codertocat")
    await track_issue(db, user_id)

    response = await hook.send("issues", retarget(payload(fixture), "Codertocat"))

    assert response.json()["status"] == "stopped"
    (message,) = dm_bodies(discord_bot)
    assert message["content"].startswith("⏹️ Clocked out: ")
    assert says in message["content"] and LABEL in message["content"]


async def test_a_resume_is_dmed_too(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter
) -> None:
    user_id = await link(db, "Codertocat")
    await track_issue(db, user_id, paused=True)

    await hook.send("issues", assigned())

    (message,) = dm_bodies(discord_bot)
    assert message["content"] == f"▶️ Resumed: you were assigned **{LABEL}**."


async def test_a_switch_offer_for_an_issue_without_a_link_offers_no_link(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter
) -> None:
    user_id = await link(db, "Codertocat")
    await sessions.clock_in(db, user_id, "Thesis", None, source=SessionSource.WEB)
    body = assigned()
    body["issue"]["html_url"] = "javascript:alert(1)"

    await hook.send("issues", body)

    (message,) = dm_bodies(discord_bot)
    _, switch_row = message["components"]
    assert [c.get("url") for c in switch_row["components"]] == [None]
    assert "javascript" not in str(message)
