"""Long-running reminders, driven by ticks in process on a frozen clock: when they come,
what they say, and that nothing (pausing, resuming, another tick, two ticks at once)
repeats one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import reminders
from app import session as sessions
from app.clock import Clock
from app.config import get_settings
from app.db import transaction
from app.models import Notification, NotificationStatus, Session, SessionSource
from server.cron.tick import tick
from tests.inbox import Inbox, button_ids
from tests.ops.conftest import fresh_user_id

UNSET: Any = object()


async def clock_in(user_id: str, subject: str = "Thesis", *, minutes: Any = UNSET) -> Session:
    async with transaction() as db:
        if minutes is not UNSET:
            await reminders.set_remind_after(db, user_id, minutes)
        return await sessions.clock_in(db, user_id, subject, source=SessionSource.API)


async def stored(session_id: int) -> Session:
    async with transaction() as db:
        found = await db.get(Session, session_id)
        assert found is not None
        return found


async def recorded(committed: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with committed() as db:
        rows = await db.execute(select(Notification).order_by(Notification.id))
        return list(rows.scalars())


def reminder_for(inbox: Inbox, user_id: str) -> dict[str, Any]:
    [message] = inbox.to(user_id)
    return message


async def test_a_reminder_comes_after_remind_after_minutes_and_only_once(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user)  # the default: 120 minutes
    assert (await stored(session.id)).remind_at == frozen.now() + timedelta(minutes=120)

    frozen.advance(minutes=119, seconds=59)
    assert (await tick()).counts() == {"reminded": 0, "summaries": 0, "stopped": 0, "team_posts": 0}
    assert inbox.attempts == []

    frozen.advance(seconds=1)
    assert (await tick()).counts() == {"reminded": 1, "summaries": 0, "stopped": 0, "team_posts": 0}
    message = reminder_for(inbox, user)
    assert message["content"].startswith("⏰ Still working on **Thesis**? It started 2h ago.")
    assert message["embeds"][0]["footer"]["text"] == f"Session {session.id}"
    assert button_ids(message) == [
        f"pause:{session.id}",
        f"out:{session.id}",
        f"snooze:{session.id}",
    ]
    [row] = await recorded(committed)
    assert (row.kind, row.status, row.attempts, row.session_id) == (
        "reminder",
        NotificationStatus.SENT,
        1,
        session.id,
    )
    # Discord refuses a repeat of this nonce for a few minutes.
    assert message["nonce"] == f"tt{row.id}"
    assert message["enforce_nonce"] is True
    assert (await stored(session.id)).remind_at is None

    for minutes in (1, 60, 600):
        frozen.advance(minutes=minutes)
        assert (await tick()).reminded == 0
    assert len(inbox.attempts) == 1


async def test_pausing_and_resuming_neither_delay_nor_repeat_it(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user)
    frozen.advance(minutes=30)
    async with transaction() as db:
        await sessions.pause(db, user, session.id)
    frozen.advance(minutes=90)  # two hours since the start, an hour and a half of it paused

    assert (await tick()).reminded == 1
    message = reminder_for(inbox, user)
    # A paused session is asked about too, with Resume where Pause would be.
    assert button_ids(message) == [
        f"resume:{session.id}",
        f"out:{session.id}",
        f"snooze:{session.id}",
    ]

    async with transaction() as db:
        await sessions.resume(db, user, session.id)
    frozen.advance(minutes=125)
    async with transaction() as db:
        await sessions.pause(db, user, session.id)
    frozen.advance(minutes=125)
    assert (await tick()).reminded == 0
    assert len(inbox.attempts) == 1


async def test_keep_going_asks_again_after_another_period(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user, minutes=45)
    frozen.advance(minutes=50)
    assert (await tick()).reminded == 1

    frozen.advance(minutes=10)  # the owner answers ten minutes later
    async with transaction() as db:
        kept = await sessions.keep_going(db, user, session.id)
    assert kept.remind_at == frozen.now() + timedelta(minutes=45)

    frozen.advance(minutes=44)
    assert (await tick()).reminded == 0
    frozen.advance(minutes=1)
    assert (await tick()).reminded == 1
    first, second = inbox.to(user)
    assert "It started 50m ago" in first["content"]
    assert "It started 1h 45m ago" in second["content"]
    keys = [row.key for row in await recorded(committed)]
    assert len(set(keys)) == 2


async def test_a_clocked_out_session_is_not_reminded(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user)
    frozen.advance(minutes=100)
    async with transaction() as db:
        await sessions.clock_out(db, user, session.id)
    assert (await stored(session.id)).remind_at is None
    frozen.advance(minutes=100)

    assert (await tick()).reminded == 0
    assert inbox.attempts == []


async def test_a_reopened_session_is_reminded_a_period_after_the_reopen(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user, minutes=60)
    frozen.advance(minutes=30)
    async with transaction() as db:
        await sessions.clock_out(db, user, session.id)
    frozen.advance(minutes=60)
    async with transaction() as db:
        await sessions.reopen(db, user, session.id)

    frozen.advance(minutes=59)
    assert (await tick()).reminded == 0
    frozen.advance(minutes=1)
    assert (await tick()).reminded == 1


async def test_reminders_off_means_none(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user, minutes=None)
    assert (await stored(session.id)).remind_at is None
    frozen.advance(hours=20)

    assert (await tick()).reminded == 0
    assert inbox.attempts == []


async def test_changing_the_setting_reschedules_the_active_session(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await clock_in(user)
    started = frozen.now()

    # Still ahead: counted from the start.
    frozen.advance(minutes=60)
    async with transaction() as db:
        await reminders.set_remind_after(db, user, 240)
    assert (await stored(session.id)).remind_at == started + timedelta(minutes=240)
    frozen.advance(minutes=60)  # two hours in: the old setting would have reminded now
    assert (await tick()).reminded == 0

    # Already past: counted from now, since whoever changed it is still there.
    async with transaction() as db:
        await reminders.set_remind_after(db, user, 30)
    assert (await stored(session.id)).remind_at == frozen.now() + timedelta(minutes=30)

    # Off, then on again.
    async with transaction() as db:
        await reminders.set_remind_after(db, user, None)
    assert (await stored(session.id)).remind_at is None
    frozen.advance(minutes=30)
    assert (await tick()).reminded == 0
    async with transaction() as db:
        await reminders.set_remind_after(db, user, 15)
    frozen.advance(minutes=15)
    assert (await tick()).reminded == 1
    assert len(inbox.to(user)) == 1


async def test_a_stale_session_is_stopped_rather_than_reminded(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    await clock_in(user, minutes=1440)
    frozen.advance(hours=24, seconds=1)

    ticked = await tick()

    assert (ticked.stopped, ticked.reminded) == (1, 0)
    [message] = inbox.to(user)  # the sweep's card, not a reminder
    assert "I clocked you out" in message["content"]
    assert await recorded(committed) == []


async def test_two_ticks_at_once_send_each_reminder_once(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    users = [fresh_user_id() for _ in range(6)]
    for user in users:
        await clock_in(user)
    frozen.advance(hours=2)

    first, second = await asyncio.gather(tick(), tick())

    assert first.reminded + second.reminded == len(users)
    assert sorted(recipient for recipient, _ in inbox.delivered) == sorted(users)
    rows = await recorded(committed)
    assert len(rows) == len(users)
    assert {row.status for row in rows} == {NotificationStatus.SENT}
    assert (await tick()).reminded == 0


async def test_without_a_bot_token_reminders_wait(
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
    inbox: Inbox,
    settings_env: pytest.MonkeyPatch,
) -> None:
    user = fresh_user_id()
    await clock_in(user)
    frozen.advance(hours=3)
    settings_env.delenv("DISCORD_BOT_TOKEN")
    get_settings.cache_clear()

    assert (await tick()).reminded == 0
    assert inbox.attempts == []
    assert await recorded(committed) == []

    # Once DMs can be sent, the reminder that was due goes out.
    settings_env.setenv("DISCORD_BOT_TOKEN", "bot-token-for-tests")
    get_settings.cache_clear()
    assert (await tick()).reminded == 1
    assert len(inbox.to(user)) == 1
