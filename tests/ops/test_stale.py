"""The stale-session service: what counts as stale, how it ends, and that runs never collide."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, stale, throttle
from app import session as sessions
from app.clock import Clock
from app.config import get_settings
from app.errors import InvalidInput
from app.models import ProcessedEvent, SessionSource, SessionStatus, StopReason
from app.timing import session_times
from tests.ops.conftest import delivery_at, fresh_user_id, hours_ago, session_started_at


async def test_stops_running_and_paused_sessions_past_the_threshold_only(
    db: AsyncSession, frozen: Clock
) -> None:
    now = frozen.now()
    running = await session_started_at(db, fresh_user_id(), hours_ago(now, 30))
    paused = await session_started_at(
        db, fresh_user_id(), hours_ago(now, 26), paused_at=hours_ago(now, 25)
    )
    fresh = await session_started_at(db, fresh_user_id(), hours_ago(now, 23))
    ended = await session_started_at(
        db, fresh_user_id(), hours_ago(now, 50), ended_at=hours_ago(now, 49)
    )

    stopped = await stale.stop(db, hours=24)

    assert [s.id for s in stopped] == [running.id, paused.id]  # oldest first
    for session in stopped:
        assert session.status == SessionStatus.ENDED_UNCONFIRMED
        assert session.stop_reason == StopReason.STALE
        assert session.ended_at == now
        assert session.pause_started_at is None
    paused, running, fresh, ended = [
        await sessions.get(db, s.user_id, s.id) for s in (paused, running, fresh, ended)
    ]
    # The open pause is accrued as paused time, so the hour nobody worked isn't counted.
    assert paused.total_paused_seconds == 25 * 3600
    assert session_times(paused, now).effective == 3600
    assert session_times(running, now).effective == 30 * 3600
    assert fresh.status == SessionStatus.RUNNING
    assert ended.status == SessionStatus.ENDED_UNCONFIRMED
    assert ended.stop_reason == StopReason.USER


async def test_stale_sessions_are_never_confirmed_and_can_be_reviewed(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    session = await session_started_at(db, user, hours_ago(frozen.now(), 30))
    await stale.stop(db, hours=24)

    adjusted = await sessions.adjust_time(db, user, session.id, "2h")
    confirmed = await sessions.confirm(db, user, session.id)

    assert adjusted.session.effective_override_seconds == 7200
    assert confirmed.session.status == SessionStatus.ENDED_CONFIRMED


async def test_the_threshold_is_strict_and_may_be_fractional(
    db: AsyncSession, frozen: Clock
) -> None:
    now = frozen.now()
    at_limit = await session_started_at(db, fresh_user_id(), now - timedelta(minutes=90))
    past_limit = await session_started_at(
        db, fresh_user_id(), now - timedelta(minutes=90, seconds=1)
    )

    stopped = await stale.stop(db, hours=1.5)

    assert [s.id for s in stopped] == [past_limit.id]
    assert at_limit.status == SessionStatus.RUNNING


async def test_the_default_threshold_is_the_setting(
    db: AsyncSession, frozen: Clock, settings_env: pytest.MonkeyPatch
) -> None:
    session = await session_started_at(db, fresh_user_id(), hours_ago(frozen.now(), 3))
    assert await stale.stop(db) == []  # 24 h by default

    settings_env.setenv("TIMETRACK_STALE_HOURS", "2.5")
    get_settings.cache_clear()
    stopped = await stale.stop(db)

    assert [s.id for s in stopped] == [session.id]


@pytest.mark.parametrize("hours", [0, -1, float("nan"), float("inf")])
async def test_a_threshold_that_is_not_a_positive_number_is_refused(
    db: AsyncSession, hours: float
) -> None:
    with pytest.raises(InvalidInput, match="positive"):
        await stale.stop(db, hours=hours)


async def test_find_lists_without_changing_anything(db: AsyncSession, frozen: Clock) -> None:
    now = frozen.now()
    old = await session_started_at(db, fresh_user_id(), hours_ago(now, 40))
    older = await session_started_at(db, fresh_user_id(), hours_ago(now, 50))
    await session_started_at(db, fresh_user_id(), hours_ago(now, 1))

    found = await stale.find(db, hours=24)

    assert [s.id for s in found] == [older.id, old.id]
    assert all(s.status == SessionStatus.RUNNING for s in found)
    assert [s.subject.name for s in found] == ["Maths", "Maths"]


async def test_a_second_run_finds_nothing_left(db: AsyncSession, frozen: Clock) -> None:
    await session_started_at(db, fresh_user_id(), hours_ago(frozen.now(), 30))

    assert len(await stale.stop(db, hours=24)) == 1
    assert await stale.stop(db, hours=24) == []


async def test_stop_for_user_rechecks_after_the_lock(db: AsyncSession, frozen: Clock) -> None:
    """Between the unlocked search and the lock, the owner may clock out or start afresh."""
    now = frozen.now()
    before = hours_ago(now, 24)
    user = fresh_user_id()
    old = await session_started_at(db, user, hours_ago(now, 30))
    await sessions.clock_out(db, user, old.id)

    assert await stale.stop_for_user(db, user, before) is None
    assert (await sessions.get(db, user, old.id)).stop_reason == StopReason.USER

    await sessions.clock_in(db, user, "Physics", source=SessionSource.WEB)
    assert await stale.stop_for_user(db, user, before) is None
    assert (await sessions.current(db, user)) is not None


async def test_sweep_also_prunes_idempotency_records_older_than_a_week(
    db: AsyncSession, frozen: Clock
) -> None:
    now = frozen.now()
    await db.execute(text("DELETE FROM processed_events"))
    await delivery_at(db, now - timedelta(days=8), succeeded=True)
    await delivery_at(db, now - timedelta(days=7, seconds=1), succeeded=False)
    await delivery_at(db, now - timedelta(days=6), succeeded=True)
    await session_started_at(db, fresh_user_id(), hours_ago(now, 30))

    swept = await stale.sweep(db, hours=24)

    assert swept.pruned_events == 2
    assert swept.hours == 24
    assert len(swept.stopped) == 1
    assert await db.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


async def test_sweep_forgets_expired_sign_ins_links_and_old_failed_sign_ins(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    ended = await accounts.create_sign_in(db, user_id)
    await accounts.create_login_link(db, user_id)
    await throttle.record_failure(db, "192.0.2.201")
    frozen.advance(days=30)
    live = await accounts.create_sign_in(db, user_id)
    fresh_link = await accounts.create_login_link(db, user_id)
    await throttle.record_failure(db, "192.0.2.202")

    await stale.sweep(db, hours=24)

    mine = {"user_id": user_id}
    left = [
        await db.scalar(text("SELECT count(*) FROM sign_ins WHERE user_id = :user_id"), mine),
        await db.scalar(text("SELECT count(*) FROM login_links WHERE user_id = :user_id"), mine),
        await db.scalar(
            text(
                "SELECT count(*) FROM auth_failures WHERE address IN ('192.0.2.201', '192.0.2.202')"
            )
        ),
    ]
    assert left == [1, 1, 1]
    assert await accounts.user_for_sign_in(db, ended) is None
    assert await accounts.user_for_sign_in(db, live) is not None
    assert await accounts.login_link_owner(db, fresh_link.rsplit("/", 1)[1]) == user_id
    assert await throttle.retry_after(db, "192.0.2.202") is None


def test_several_users_are_taken_in_one_order_each_once() -> None:
    ids = [fresh_user_id("c"), fresh_user_id("a"), fresh_user_id("b")]

    assert accounts.in_lock_order([*ids, ids[0]]) == sorted(ids)


async def test_concurrent_runs_stop_each_session_exactly_once(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    """Two sweeps at once (a cron retry overlapping a manual run) neither deadlock nor
    double-stop: both lock owners in the same order, so the second waits and finds
    nothing left to do."""
    now = frozen.now()
    users = [fresh_user_id("race") for _ in range(12)]
    async with committed() as db, db.begin():
        expected = {
            (await session_started_at(db, user, hours_ago(now, 30 + n))).id
            for n, user in enumerate(users)
        }

    async def run() -> list[int]:
        async with committed() as db, db.begin():
            return [s.id for s in await stale.stop(db, hours=24)]

    first, second = await asyncio.wait_for(asyncio.gather(run(), run()), timeout=60)

    assert sorted(first + second) == sorted(expected)
    async with committed() as db:
        statuses = (
            await db.execute(
                text("SELECT status, stop_reason, count(*) FROM sessions GROUP BY 1, 2")
            )
        ).all()
    assert statuses == [("ENDED_UNCONFIRMED", "stale", 12)]


async def test_a_run_and_owners_clocking_out_at_once_end_each_session_once(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    now = frozen.now()
    users = [fresh_user_id("mix") for _ in range(8)]
    async with committed() as db, db.begin():
        started = [await session_started_at(db, u, hours_ago(now, 30)) for u in users]

    async def owner_clocks_out(user: str, session_id: int) -> None:
        async with committed() as db, db.begin():
            await sessions.clock_out(db, user, session_id)

    async def sweep() -> list[int]:
        async with committed() as db, db.begin():
            return [s.id for s in await stale.stop(db, hours=24)]

    owners = [owner_clocks_out(u, s.id) for u, s in zip(users[::2], started[::2], strict=True)]
    results = await asyncio.wait_for(asyncio.gather(sweep(), *owners), timeout=60)

    swept = set(results[0])
    async with committed() as db:
        rows = (await db.execute(text("SELECT id, status, stop_reason FROM sessions"))).all()
    assert len(rows) == 8
    for session_id, status, reason in rows:
        assert status == "ENDED_UNCONFIRMED"
        # Whoever got the lock first ended it; the other saw it ended and left it alone.
        assert reason == ("stale" if session_id in swept else "user")
