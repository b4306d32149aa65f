"""Work that must follow a commit (DMs) runs only after it, once, and never after a rollback.

These run real, committed transactions: what the queued work sees must be what another
connection sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import respx
from httpx import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import session as sessions
from app.config import get_settings
from app.db import after_commit, transaction, unit_of_work
from app.models import Session, SessionSource
from server import notify
from tests.ops.conftest import fresh_user_id

DISCORD_API = "https://discord.test/api/v10"


class Boom(Exception):
    pass


@pytest.fixture
def discord(settings_env: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    settings_env.setenv("DISCORD_BOT_TOKEN", "bot-token-for-tests")
    settings_env.setenv("DISCORD_API_BASE", DISCORD_API)
    get_settings.cache_clear()
    with respx.mock(assert_all_called=False) as fake:
        fake.post(f"{DISCORD_API}/users/@me/channels", name="open_dm").mock(
            side_effect=lambda request: Response(
                200, json={"id": "dm-" + json.loads(request.content)["recipient_id"]}
            )
        )
        fake.post(url__regex=rf"^{DISCORD_API}/channels/[^/]+/messages$", name="message").mock(
            return_value=Response(200, json={"id": "m1"})
        )
        yield fake


async def _visible_elsewhere(
    committed: async_sessionmaker[AsyncSession], user_id: str
) -> list[int]:
    async with committed() as other:
        rows = await other.execute(select(Session.id).where(Session.user_id == user_id))
        return list(rows.scalars())


async def test_queued_work_runs_once_after_the_commit_and_sees_it(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    user_id = fresh_user_id("after")
    seen: list[list[int]] = []

    async def look() -> None:
        seen.append(await _visible_elsewhere(committed, user_id))

    async with transaction() as db:
        started = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
        after_commit(db, look)
        assert seen == []  # not yet: nothing is committed

    assert seen == [[started.id]]


async def test_a_block_that_raises_rolls_back_and_drops_the_work(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    user_id = fresh_user_id("after")
    ran: list[str] = []

    async def mark() -> None:
        ran.append("ran")

    with pytest.raises(Boom):
        async with transaction() as db:
            await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
            after_commit(db, mark)
            raise Boom

    assert ran == []
    assert await _visible_elsewhere(committed, user_id) == []


async def test_a_rollback_inside_the_block_drops_what_was_queued_before_it(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []

    async def mark(name: str) -> None:
        ran.append(name)

    async with committed() as db, unit_of_work(db):
        await db.execute(select(1))
        after_commit(db, lambda: mark("before"))
        await db.rollback()
        after_commit(db, lambda: mark("after"))

    assert ran == ["after"]


async def test_failing_work_is_logged_and_the_rest_still_runs(
    committed: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def fail() -> None:
        raise Boom

    async def mark() -> None:
        ran.append("second")

    async with committed() as db, unit_of_work(db):
        after_commit(db, fail)
        after_commit(db, mark)

    assert ran == ["second"]
    assert "work after commit failed" in caplog.text


async def test_dms_of_one_transaction_go_as_one_batch_after_it(
    committed: async_sessionmaker[AsyncSession], discord: respx.MockRouter
) -> None:
    first, second = fresh_user_id("dm"), fresh_user_id("dm")
    async with transaction() as db:
        for user_id in (first, second):
            session = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
            notify.session_card(db, session, notify.Notice("Hello about {issue}.", "o/r#1"))
        box = notify.outbox(db)
        assert len(box.messages) == 2
        assert not discord.routes["message"].called

    assert (box.delivered, box.failed) == (2, 0)
    recipients = [
        json.loads(call.request.content)["recipient_id"] for call in discord.routes["open_dm"].calls
    ]
    assert sorted(recipients) == sorted([first, second])
    sent = json.loads(discord.routes["message"].calls[0].request.content)
    assert sent["content"] == r"Hello about **o/r\#1**."


async def test_no_dm_announces_a_rolled_back_change(
    committed: async_sessionmaker[AsyncSession], discord: respx.MockRouter
) -> None:
    user_id = fresh_user_id("dm")
    with pytest.raises(Boom):
        async with transaction() as db:
            session = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
            notify.session_card(db, session, notify.Notice("Started."))
            raise Boom

    assert not discord.routes["open_dm"].called
    assert await _visible_elsewhere(committed, user_id) == []


async def test_a_refused_dm_is_counted_not_raised(
    committed: async_sessionmaker[AsyncSession], discord: respx.MockRouter
) -> None:
    discord.routes["open_dm"].mock(return_value=Response(403, json={"message": "Cannot send"}))
    async with transaction() as db:
        session = await sessions.clock_in(
            db, fresh_user_id("dm"), "Maths", source=SessionSource.API
        )
        notify.session_card(db, session, notify.Notice("Started."))
        box = notify.outbox(db)

    assert (box.delivered, box.failed) == (0, 1)
    assert await _visible_elsewhere(committed, session.user_id) == [session.id]


async def test_without_a_bot_token_nothing_is_queued(
    committed: async_sessionmaker[AsyncSession], settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.delenv("DISCORD_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    async with transaction() as db:
        session = await sessions.clock_in(
            db, fresh_user_id("dm"), "Maths", source=SessionSource.API
        )
        notify.session_card(db, session, notify.Notice("Started."))
        assert notify.outbox(db).messages == []
