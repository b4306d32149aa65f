"""The Switch button, end to end: an assignment arrives while something else is tracked, the
DM offers Switch, and a click through /api/discord swaps the sessions in one transaction.

These run on committed data: Discord's endpoint opens its own transactions.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx
from httpx import AsyncClient
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app import session as sessions
from app.clock import Clock
from app.github import OFFER_LIFETIME as SWITCH_OFFER_LIFETIME
from app.issues import IssueRef
from app.models import Session, SessionSource
from server.integrations.discord import views
from tests.discord.support import assert_callback
from tests.github.conftest import (
    Hook,
    click_in_dm,
    dm_bodies,
    fresh_user_id,
    payload,
    retarget,
)

ISSUE_URL = "https://github.com/Codertocat/Hello-World/issues/1"
LABEL = views.escape("Codertocat/Hello-World#1")  # as Discord cards show it


@pytest.fixture
def offer_setup(
    live_client: AsyncClient,
    discord_bot: respx.MockRouter,
    interaction_key: SigningKey,
    frozen: Clock,
) -> Any:
    """`await offer_setup(login)`: a linked user tracking Thesis, then assigned issue #1.

    Returns (user_id, the session tracked before, the Switch button's custom_id).
    """

    async def make(login: str = "Codertocat") -> tuple[str, int, str]:
        from app.db import database

        user_id = fresh_user_id()
        async with database.sessions() as db, db.begin():
            await accounts.link_github(db, user_id, login)
            before = await sessions.clock_in(
                db, user_id, "Thesis", "chapter 2", source=SessionSource.DISCORD
            )
        response = await Hook(live_client).send(
            "issues", retarget(payload("issues.assigned"), login)
        )
        assert response.json()["status"] == "skipped"
        message = dm_bodies(discord_bot)[-1]
        switch = message["components"][-1]["components"][0]
        return user_id, before.id, switch["custom_id"]

    return make


async def sessions_of(db_factory: async_sessionmaker[AsyncSession], user_id: str) -> list[Session]:
    async with db_factory() as db:
        rows = await db.execute(
            select(Session).where(Session.user_id == user_id).order_by(Session.id)
        )
        return list(rows.scalars())


async def test_switch_clocks_out_the_tracked_session_and_starts_the_issue(
    offer_setup: Any,
    live_client: AsyncClient,
    interaction_key: SigningKey,
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
) -> None:
    user_id, before_id, custom_id = await offer_setup()
    assert custom_id.startswith("switch:") and len(custom_id) <= 100
    frozen.advance(900)

    answer = await click_in_dm(live_client, interaction_key, user_id, custom_id)

    assert_callback(answer)
    assert answer["type"] == 7  # the DM card turns into the new session's card
    card = answer["data"]
    assert card["content"] == f"Switched to **{LABEL}**; clocked out of **Thesis**."
    before, after = await sessions_of(committed, user_id)
    assert before.id == before_id
    assert (before.status, before.stop_reason) == ("ENDED_UNCONFIRMED", "user")
    assert before.ended_at == frozen.now()
    assert after.status == "RUNNING"
    assert after.started_at == frozen.now()
    assert (after.source, after.goal) == ("github", "#1 Spelling error in the README file")
    assert (after.github_repo, after.github_issue_number, after.github_issue_url) == (
        "Codertocat/Hello-World",
        1,
        ISSUE_URL,
    )
    assert card["embeds"][0]["footer"]["text"] == f"Session {after.id}"


async def test_a_second_click_changes_nothing(
    offer_setup: Any,
    live_client: AsyncClient,
    interaction_key: SigningKey,
    committed: async_sessionmaker[AsyncSession],
) -> None:
    user_id, _, custom_id = await offer_setup()
    await click_in_dm(live_client, interaction_key, user_id, custom_id)

    again = await click_in_dm(live_client, interaction_key, user_id, custom_id)

    assert_callback(again)
    assert again["type"] == 7
    assert again["data"]["content"] == f"Already tracking **{LABEL}**."
    assert len(await sessions_of(committed, user_id)) == 2


async def test_someone_else_cannot_take_the_offer(
    offer_setup: Any,
    live_client: AsyncClient,
    interaction_key: SigningKey,
    committed: async_sessionmaker[AsyncSession],
) -> None:
    user_id, before_id, custom_id = await offer_setup()
    intruder = fresh_user_id()

    answer = await click_in_dm(live_client, interaction_key, intruder, custom_id)

    assert_callback(answer)
    assert answer["type"] == 4
    assert answer["data"]["flags"] & 64
    assert "sent to someone else" in answer["data"]["content"]
    (still,) = await sessions_of(committed, user_id)
    assert (still.id, still.status) == (before_id, "RUNNING")
    assert await sessions_of(committed, intruder) == []


async def test_an_expired_offer_says_so_privately(
    offer_setup: Any,
    live_client: AsyncClient,
    interaction_key: SigningKey,
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
) -> None:
    user_id, _, custom_id = await offer_setup()
    frozen.advance(SWITCH_OFFER_LIFETIME.total_seconds() + 1)

    answer = await click_in_dm(live_client, interaction_key, user_id, custom_id)

    assert_callback(answer)
    assert answer["data"]["flags"] & 64
    assert "expired" in answer["data"]["content"]
    (still,) = await sessions_of(committed, user_id)
    assert still.status == "RUNNING"


@pytest.mark.parametrize(
    ("custom_id", "says"),
    [("switch:999999999", "expired"), ("switch:abc", "no longer supported")],
)
async def test_unknown_or_malformed_refs_say_so_privately(
    live_client: AsyncClient,
    interaction_key: SigningKey,
    discord_bot: respx.MockRouter,
    custom_id: str,
    says: str,
) -> None:
    answer = await click_in_dm(live_client, interaction_key, fresh_user_id(), custom_id)

    assert_callback(answer)
    assert answer["data"]["flags"] & 64
    assert says in answer["data"]["content"]


async def test_switch_after_clocking_out_meanwhile_just_starts_the_issue(
    offer_setup: Any,
    live_client: AsyncClient,
    interaction_key: SigningKey,
    committed: async_sessionmaker[AsyncSession],
) -> None:
    user_id, before_id, custom_id = await offer_setup()
    async with committed() as db, db.begin():
        await sessions.clock_out(db, user_id, before_id)

    answer = await click_in_dm(live_client, interaction_key, user_id, custom_id)

    assert answer["data"]["content"] == f"Switched to **{LABEL}**."
    before, after = await sessions_of(committed, user_id)
    assert before.stop_reason == "user"
    assert after.github_issue_number == 1 and after.status == "RUNNING"


async def test_a_paused_session_on_the_issue_is_resumed(
    offer_setup: Any,
    live_client: AsyncClient,
    interaction_key: SigningKey,
    committed: async_sessionmaker[AsyncSession],
) -> None:
    user_id, before_id, custom_id = await offer_setup()
    issue = IssueRef("Codertocat/Hello-World", 1, ISSUE_URL)
    async with committed() as db, db.begin():
        await sessions.clock_out(db, user_id, before_id)
        on_issue = await sessions.clock_in(
            db, user_id, "Codertocat/Hello-World", "#1", source=SessionSource.WEB, issue=issue
        )
        await sessions.pause(db, user_id, on_issue.id)

    answer = await click_in_dm(live_client, interaction_key, user_id, custom_id)

    assert answer["data"]["content"] == f"Resumed **{LABEL}**."
    assert (await sessions_of(committed, user_id))[-1].status == "RUNNING"
