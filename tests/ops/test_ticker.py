"""The loop `timetrack serve` runs: it ticks by itself, and of several processes only the
one holding the advisory lock does, until it stops and another takes over."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import session as sessions
from app.clock import clock
from app.config import get_settings
from app.db import database, transaction
from app.leadership import Leadership
from app.models import SessionSource
from server.cron import ticker as ticker_module
from server.cron.ticker import Ticker
from server.router import lifespan
from tests.inbox import Inbox
from tests.ops.conftest import fresh_user_id, hours_ago


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def counter() -> tuple[list[int], Callable[[], Awaitable[None]]]:
    ticks: list[int] = []

    async def work() -> None:
        ticks.append(1)

    return ticks, work


async def lock_holders(key: int) -> int:
    async with database.sessions() as db:
        # pg_locks splits a bigint key into two 32-bit halves.
        found = await db.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": key},
        )
    return int(found or 0)


@pytest.fixture
def key() -> int:
    """A lock of this test's own, so no other test's ticker can hold it."""
    return secrets.randbits(62)


async def test_the_loop_ticks_and_a_second_one_waits_for_the_lock(
    committed: async_sessionmaker[AsyncSession], inbox: Inbox, key: int
) -> None:
    # Real scheduled work: a reminder that is due, sent by the loop without anyone asking.
    user = fresh_user_id()
    clock.freeze(hours_ago(clock.now(), 3))
    try:
        async with transaction() as db:
            await sessions.clock_in(db, user, "Thesis", source=SessionSource.API)
    finally:
        clock.unfreeze()
    seconds, work = counter()

    leader = Ticker(0.02, lock_key=key).start()
    try:
        await eventually(lambda: len(inbox.to(user)) == 1)
        assert leader.leadership is not None
        assert await lock_holders(key) == 1

        follower = Ticker(0.02, work, lock_key=key).start()
        try:
            await asyncio.sleep(0.3)  # many intervals
            assert seconds == []
            assert follower.leadership is None
        finally:
            await leader.stop()
        # The leader let go: the follower takes over at its next try.
        await eventually(lambda: len(seconds) >= 2)
        assert follower.leadership is not None
    finally:
        await follower.stop()
        await leader.stop()
    assert await lock_holders(key) == 0
    assert len(inbox.to(user)) == 1


async def test_a_leader_whose_connection_dies_is_replaced(
    committed: async_sessionmaker[AsyncSession], key: int
) -> None:
    ticks, work = counter()
    first = Ticker(0.02, work, lock_key=key).start()
    try:
        await eventually(lambda: first.leadership is not None)
        holder = first.leadership
        assert holder is not None
        # The server ends the leader's session, as a restart or a dropped network would.
        async with database.sessions() as db, db.begin():
            await db.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": key},
            )
        await eventually(lambda: first.leadership is not holder and first.leadership is not None)
        count = len(ticks)
        await eventually(lambda: len(ticks) > count)
    finally:
        await first.stop()
    assert await lock_holders(key) == 0


async def test_a_tick_that_fails_does_not_stop_the_loop(key: int, engine: object) -> None:
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    ticker = Ticker(0.01, flaky, lock_key=key).start()
    try:
        await eventually(lambda: len(calls) >= 3)
    finally:
        await ticker.stop()


async def test_only_one_process_at_a_time_takes_the_lead(engine: object, key: int) -> None:
    first = await Leadership.try_take(key)
    assert first is not None
    try:
        assert await Leadership.try_take(key) is None
        assert await first.still_held()
    finally:
        await first.release()
    again = await Leadership.try_take(key)
    assert again is not None
    await again.release()


@pytest.mark.parametrize(
    ("variables", "ticks"),
    [
        ({"TIMETRACK_TICK_SECONDS": "3600"}, True),
        ({"TIMETRACK_TICK_SECONDS": "0"}, False),
        (
            {
                "TIMETRACK_TICK_SECONDS": "3600",
                "VERCEL": "1",
                "TIMETRACK_SECRET_KEY": "s" * 40,
                "DATABASE_URL": "postgresql://x@127.0.0.1:1/x",
            },
            False,
        ),
    ],
    ids=["serve", "off", "vercel"],
)
async def test_the_app_ticks_by_itself_only_where_it_lives_on(
    settings_env: pytest.MonkeyPatch,
    monkeypatch: pytest.MonkeyPatch,
    engine: object,
    variables: dict[str, str],
    ticks: bool,
) -> None:
    for name, value in variables.items():
        settings_env.setenv(name, value)
    get_settings.cache_clear()
    started: list[Ticker] = []
    stopped: list[Ticker] = []
    real_start, real_stop = Ticker.start, Ticker.stop

    def start(self: Ticker) -> Ticker:
        started.append(self)
        return real_start(self)

    async def stop(self: Ticker) -> None:
        stopped.append(self)
        await real_stop(self)

    monkeypatch.setattr(Ticker, "start", start)
    monkeypatch.setattr(Ticker, "stop", stop)
    ticks_run, work = counter()
    monkeypatch.setattr(ticker_module, "tick", work)

    async with lifespan(FastAPI()):
        assert len(started) == int(ticks)
        if ticks:
            await eventually(lambda: ticks_run == [1])  # at once, then hourly
    assert stopped == started
    if ticks:
        assert started[0].interval == 3600
