"""Delivery of scheduled messages: a failed DM is retried at the next tick, at most three
attempts in all, counted in health; a tick that died mid-send is recovered; messages too
old are pruned."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import notifications, reminders
from app import session as sessions
from app.clock import Clock
from app.config import get_settings
from app.db import transaction
from app.models import Notification, NotificationStatus, Session, SessionSource
from server import notify
from server.cron.tick import tick
from server.integrations.discord.client import DiscordClient
from server.router import app
from tests.inbox import DM_FAILURES, Inbox
from tests.ops.conftest import fresh_user_id


async def due_reminder(frozen: Clock, user: str) -> Session:
    """A session whose reminder is due now."""
    async with transaction() as db:
        session = await sessions.clock_in(db, user, "Thesis", source=SessionSource.API)
    frozen.advance(hours=2)
    return session


async def the_row(committed: async_sessionmaker[AsyncSession]) -> Notification:
    async with committed() as db:
        [row] = (await db.execute(select(Notification))).scalars().all()
        return row


async def health() -> dict[str, Any]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://ops") as http:
        body: dict[str, Any] = (await http.get("/api/health")).json()
    return body["notifications_24h"]  # type: ignore[no-any-return]


@DM_FAILURES
async def test_a_failed_dm_is_retried_three_times_in_all_then_given_up(
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
    inbox: Inbox,
    failure: httpx.Response | Exception,
) -> None:
    user = fresh_user_id()
    await due_reminder(frozen, user)
    inbox.failing[user] = failure

    assert (await tick()).reminded == 1
    row = await the_row(committed)
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert await health() == {"sent": 0, "retrying": 1, "failed": 0}

    frozen.advance(minutes=1)
    ticked = await tick()
    assert (ticked.reminded, ticked.retried) == (0, 1)
    row = await the_row(committed)
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 2)

    frozen.advance(minutes=1)
    await tick()
    row = await the_row(committed)
    assert (row.status, row.attempts) == (NotificationStatus.FAILED, 3)
    assert await health() == {"sent": 0, "retrying": 0, "failed": 1}

    frozen.advance(minutes=1)
    assert (await tick()).retried == 0
    tried = inbox.tried(user)
    assert len(tried) == 3
    # Every attempt sends what was decided, with the same nonce.
    assert tried[0] == tried[1] == tried[2]
    assert inbox.delivered == []


async def test_a_retry_that_succeeds_counts_as_sent(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    await due_reminder(frozen, user)
    inbox.refuse(user)
    await tick()

    inbox.accept(user)
    frozen.advance(minutes=1)
    assert (await tick()).retried == 1

    row = await the_row(committed)
    assert (row.status, row.attempts, row.sent_at) == (NotificationStatus.SENT, 2, frozen.now())
    assert len(inbox.to(user)) == 1
    assert await health() == {"sent": 1, "retrying": 0, "failed": 0}


async def test_a_reminder_about_a_session_that_ended_is_not_retried(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    session = await due_reminder(frozen, user)
    inbox.refuse(user)
    await tick()
    inbox.accept(user)
    async with transaction() as db:
        await sessions.clock_out(db, user, session.id)

    frozen.advance(minutes=1)
    assert (await tick()).retried == 0

    row = await the_row(committed)
    assert (row.status, row.attempts) == (NotificationStatus.FAILED, 1)
    assert len(inbox.tried(user)) == 1


async def test_messages_a_dead_tick_claimed_are_sent_by_a_later_one(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    user = fresh_user_id()
    await due_reminder(frozen, user)
    # A tick that records the reminder, commits, and dies before sending it.
    async with transaction() as db:
        [due] = await reminders.take_due(db, frozen.now(), 10)
        assert await notifications.record(db, [notify.reminder(due)])

    frozen.advance(minutes=1)
    assert (await tick()).retried == 0  # it may still be sending
    assert inbox.attempts == []

    frozen.advance(seconds=notifications.STUCK_AFTER.total_seconds())
    assert (await tick()).retried == 1
    assert len(inbox.to(user)) == 1
    assert (await the_row(committed)).status == NotificationStatus.SENT


async def test_messages_not_tried_before_the_budget_ran_out_keep_their_attempts(
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = [fresh_user_id() for _ in range(3)]
    for user in users:
        async with transaction() as db:
            await sessions.clock_in(db, user, "Thesis", source=SessionSource.API)
    frozen.advance(hours=2)

    # One DM at a time, each slower than the budget: the first is cut off mid-send, the
    # others never start.
    async def slow(*_: object) -> bool:
        await asyncio.sleep(5)
        return True

    monkeypatch.setattr(notify, "CONCURRENCY", 1)
    monkeypatch.setattr(notify, "BUDGET_SECONDS", 0.05)
    monkeypatch.setattr(DiscordClient, "send_dm", slow)

    await tick()

    async with committed() as db:
        rows = (await db.execute(select(Notification).order_by(Notification.id))).scalars()
        states = sorted((row.status, row.attempts) for row in rows)
    assert states == [
        (NotificationStatus.PENDING, 0),
        (NotificationStatus.PENDING, 0),
        (NotificationStatus.PENDING, 1),
    ]


async def test_the_sweep_prunes_settled_messages_after_thirty_days(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    old, recent = fresh_user_id(), fresh_user_id()
    await due_reminder(frozen, old)
    await tick()
    frozen.advance(days=20)
    await due_reminder(frozen, recent)
    await tick()

    frozen.advance(days=10, seconds=1)
    await tick()

    async with committed() as db:
        left = (await db.execute(select(Notification.user_id, Notification.kind))).all()
    # The recent one's reminder stays (and its summary of the week it ran in is new).
    assert (recent, "reminder") in left
    assert old not in {user for user, _ in left}


async def test_deliver_reports_each_message_in_order(inbox: Inbox) -> None:
    inbox.refuse("2")

    results = await notify.deliver([("1", {"content": "a"}), ("2", {"content": "b"})])

    assert results == [True, False]
    assert await notify.deliver([]) == []


async def test_without_a_bot_token_deliver_reports_failures(
    settings_env: pytest.MonkeyPatch,
) -> None:
    settings_env.delenv("DISCORD_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    assert await notify.deliver([("1", {"content": "a"})]) == [False]


def test_stuck_claims_are_older_than_a_send_can_take() -> None:
    assert timedelta(seconds=notify.BUDGET_SECONDS * 2) < notifications.STUCK_AFTER
