"""Measured, paused and effective time to the second, through the one computation (timing)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import session as sessions
from app.clock import Clock
from app.errors import InvalidInput
from app.models import SessionSource, SessionStatus
from app.timing import SessionTimes, session_times
from tests.domain.conftest import ENDED_UNCONFIRMED, fresh_user_id, row_of, session_in_state

MINUTE = 60
HOUR = 3600


async def _times(db: AsyncSession, user: str, session_id: int, now: datetime) -> SessionTimes:
    return session_times(await sessions.get(db, user, session_id), now)


async def test_pause_resume_clock_out_exact(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.DISCORD)
    assert started.started_at == frozen.now()

    frozen.advance(20 * MINUTE + 7)
    await sessions.pause(db, user, started.id)
    now = frozen.advance(4 * MINUTE)
    # The open pause counts as paused time already, and effective time stands still.
    assert await _times(db, user, started.id, now) == SessionTimes(
        measured=24 * MINUTE + 7, paused=4 * MINUTE, effective=20 * MINUTE + 7
    )

    frozen.advance(6 * MINUTE)
    await sessions.resume(db, user, started.id)
    row = await row_of(db, started.id)
    assert row["total_paused_seconds"] == 10 * MINUTE
    assert row["pause_started_at"] is None

    now = frozen.advance(29 * MINUTE + 53)
    outcome = await sessions.clock_out(db, user, started.id)
    assert outcome.session.ended_at == now
    later = frozen.advance(HOUR)  # the clock keeps going; an ended session does not
    assert session_times(outcome.session, later) == SessionTimes(
        measured=HOUR, paused=10 * MINUTE, effective=50 * MINUTE
    )


async def test_clock_out_while_paused_accrues_the_open_pause(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.WEB)
    frozen.advance(25 * MINUTE)
    await sessions.pause(db, user, started.id)
    frozen.advance(15 * MINUTE)

    outcome = await sessions.clock_out(db, user, started.id)

    row = await row_of(db, started.id)
    assert row["status"] == ENDED_UNCONFIRMED
    assert row["pause_started_at"] is None
    assert row["total_paused_seconds"] == 15 * MINUTE
    assert session_times(outcome.session, frozen.advance(HOUR)) == SessionTimes(
        measured=40 * MINUTE, paused=15 * MINUTE, effective=25 * MINUTE
    )


async def test_several_pauses_add_up(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    for work, rest in [(600, 61), (301, 119), (1, 1)]:
        frozen.advance(work)
        await sessions.pause(db, user, started.id)
        frozen.advance(rest)
        await sessions.resume(db, user, started.id)
    frozen.advance(100)
    await sessions.clock_out(db, user, started.id)
    times = await _times(db, user, started.id, frozen.now())
    assert times == SessionTimes(measured=1183, paused=181, effective=1002)


async def test_reopen_counts_the_gap_as_paused_and_clears_end_and_override(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.DISCORD)
    frozen.advance(30 * MINUTE)
    await sessions.pause(db, user, started.id)
    frozen.advance(5 * MINUTE)
    await sessions.clock_out(db, user, started.id)
    await sessions.adjust_time(db, user, started.id, "2h")
    assert (await _times(db, user, started.id, frozen.now())).effective == 2 * HOUR

    frozen.advance(17 * MINUTE + 3)
    outcome = await sessions.reopen(db, user, started.id)

    assert outcome.session.status == SessionStatus.RUNNING
    row = await row_of(db, started.id)
    assert row["status"] == "RUNNING"
    assert row["ended_at"] is None
    assert row["effective_override_seconds"] is None
    assert row["stop_reason"] is None
    assert row["total_paused_seconds"] == 5 * MINUTE + 17 * MINUTE + 3
    # Work does not grow by the time the session sat ended.
    assert (await _times(db, user, started.id, frozen.now())).effective == 30 * MINUTE

    frozen.advance(10 * MINUTE)
    await sessions.clock_out(db, user, started.id)
    assert await _times(db, user, started.id, frozen.now()) == SessionTimes(
        measured=62 * MINUTE + 3, paused=22 * MINUTE + 3, effective=40 * MINUTE
    )


async def test_override_replaces_effective_but_not_measured_or_paused(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    ended = await session_in_state(db, user, ENDED_UNCONFIRMED)
    frozen.advance(3 * HOUR)
    await sessions.adjust_time(db, user, ended.id, "1:20")
    times = await _times(db, user, ended.id, frozen.now())
    assert times == SessionTimes(measured=0, paused=0, effective=80 * MINUTE)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0),
        (0, 0),
        ("0m", 0),
        ("24h", 24 * HOUR),
        ("24:00", 24 * HOUR),
        ("1440", 24 * HOUR),
        (24 * HOUR, 24 * HOUR),
        ("86400s", 24 * HOUR),
        ("1h 20m", 80 * MINUTE),
        (4800, 4800),
    ],
)
async def test_adjust_accepts_zero_to_a_day(
    db: AsyncSession, frozen: Clock, value: str | int, seconds: int
) -> None:
    user = fresh_user_id()
    ended = await session_in_state(db, user, ENDED_UNCONFIRMED)
    outcome = await sessions.adjust_time(db, user, ended.id, value)
    assert not outcome.already
    assert (await row_of(db, ended.id))["effective_override_seconds"] == seconds
    assert session_times(outcome.session, frozen.now()).effective == seconds


@pytest.mark.parametrize(
    "value",
    ["24:00:01", "86401s", "1441", "25h", 24 * HOUR + 1, -1, "-1", "-5m", "", "abc", True, False],
)
async def test_adjust_rejects_more_than_a_day_negative_and_bool(
    db: AsyncSession, frozen: Clock, value: str | int
) -> None:
    user = fresh_user_id()
    ended = await session_in_state(db, user, ENDED_UNCONFIRMED)
    before = await row_of(db, ended.id)
    with pytest.raises(InvalidInput):
        await sessions.adjust_time(db, user, ended.id, value)
    assert await row_of(db, ended.id) == before
