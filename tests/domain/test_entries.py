"""Time added by hand and corrections of when a session ran: the order, future, paused and
overlap rules, exact to the second, and one winner when two overlapping entries race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import entries
from app import session as sessions
from app.clock import Clock
from app.errors import Conflict, InvalidInput, NotOwner
from app.issues import IssueRef
from app.models import SessionSource, SessionStatus
from app.timing import session_times
from tests.domain.conftest import fresh_user_id

SYDNEY = ZoneInfo("Australia/Sydney")
HOUR = timedelta(hours=1)


def hours_before(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)


async def test_an_entry_is_an_ended_confirmed_manual_session(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    now = frozen.now()
    issue = IssueRef(
        "octo-org/hello-world", 12, "https://github.com/octo-org/hello-world/issues/12"
    )

    added = await entries.add(
        db,
        user,
        "Thesis",
        hours_before(now, 3).astimezone(SYDNEY),
        hours_before(now, 1),
        paused_seconds=600,
        goal="  chapter   two ",
        issue=issue,
    )

    assert added.status == SessionStatus.ENDED_CONFIRMED
    assert added.source == SessionSource.MANUAL
    assert (added.started_at, added.ended_at) == (hours_before(now, 3), hours_before(now, 1))
    assert added.goal == "chapter two"
    assert (added.github_repo, added.github_issue_number) == ("octo-org/hello-world", 12)
    times = session_times(added, now)
    assert (times.measured, times.paused, times.effective) == (7200, 600, 6600)
    assert await sessions.current(db, user) is None


@pytest.mark.parametrize(
    ("start_hours_ago", "end_hours_ago", "paused", "message"),
    [
        (2, 2, 0, "after the start"),
        (1, 2, 0, "after the start"),
        (2, -1, 0, "future"),
        (2, 1, -1, "negative"),
        (2, 1, 3600, "less than"),
        (2, 1, 4000, "less than"),
        (30, 1, 0, "at most 24h"),
    ],
)
async def test_impossible_entries_are_invalid(
    db: AsyncSession,
    frozen: Clock,
    start_hours_ago: float,
    end_hours_ago: float,
    paused: int,
    message: str,
) -> None:
    now = frozen.now()
    with pytest.raises(InvalidInput, match=message):
        await entries.add(
            db,
            fresh_user_id(),
            "Maths",
            hours_before(now, start_hours_ago),
            hours_before(now, end_hours_ago),
            paused_seconds=paused,
        )


async def test_times_without_an_offset_are_refused(db: AsyncSession, frozen: Clock) -> None:
    naive = datetime(2026, 11, 17, 9, 0)
    with pytest.raises(InvalidInput, match="UTC offset"):
        await entries.add(db, fresh_user_id(), "Maths", naive, naive + HOUR)


async def test_an_overlap_names_the_session_it_meets(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    now = frozen.now()
    first = await entries.add(db, user, "Maths", hours_before(now, 5), hours_before(now, 3))

    with pytest.raises(Conflict) as refused:
        await entries.add(db, user, "Physics", hours_before(now, 4), hours_before(now, 2))

    assert f"session {first.id}" in refused.value.detail
    assert "Maths" in refused.value.detail
    # In the user's own time: 5 and 3 hours before Wednesday 12:00 in Sydney.
    assert "2026-11-18 07:00 to 09:00, Australia/Sydney time" in refused.value.detail


async def test_touching_spans_do_not_overlap(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    now = frozen.now()
    await entries.add(db, user, "Maths", hours_before(now, 5), hours_before(now, 3))
    after = await entries.add(db, user, "Maths", hours_before(now, 3), hours_before(now, 2))
    before = await entries.add(db, user, "Maths", hours_before(now, 6), hours_before(now, 5))

    assert after.id != before.id


async def test_an_active_session_counts_as_running_until_now(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    frozen.advance(-3 * 3600)
    running = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    await sessions.pause(db, user, running.id)
    frozen.advance(3 * 3600)
    now = frozen.now()

    with pytest.raises(Conflict, match=f"session {running.id}"):
        await entries.add(db, user, "Physics", hours_before(now, 1), hours_before(now, 0.5))
    # Before it started is free.
    await entries.add(db, user, "Physics", hours_before(now, 5), hours_before(now, 3))


async def test_other_users_time_never_overlaps_yours(db: AsyncSession, frozen: Clock) -> None:
    now = frozen.now()
    await entries.add(db, fresh_user_id(), "Maths", hours_before(now, 5), hours_before(now, 3))
    mine = await entries.add(
        db, fresh_user_id(), "Maths", hours_before(now, 5), hours_before(now, 3)
    )
    assert mine.status == SessionStatus.ENDED_CONFIRMED


async def test_a_long_session_long_ago_is_still_found_for_overlaps(
    db: AsyncSession, frozen: Clock
) -> None:
    """A session spanning days (left running, then clocked out) is found however far back
    it started: the index of long spans holds it."""
    user = fresh_user_id()
    frozen.advance(-5 * 24 * 3600)
    long_one = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    frozen.advance(5 * 24 * 3600 - 3600)
    await sessions.clock_out(db, user, long_one.id)
    now = frozen.advance(3600)

    with pytest.raises(Conflict, match=f"session {long_one.id}"):
        await entries.add(db, user, "Physics", hours_before(now, 30), hours_before(now, 29))


async def test_moving_an_ended_session_obeys_the_same_rules(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    now = frozen.now()
    first = await entries.add(db, user, "Maths", hours_before(now, 5), hours_before(now, 4))
    second = await entries.add(
        db, user, "Maths", hours_before(now, 3), hours_before(now, 2), paused_seconds=1800
    )

    with pytest.raises(Conflict, match=f"session {first.id}"):
        await entries.move(db, user, second.id, started_at=hours_before(now, 4.5))
    with pytest.raises(InvalidInput, match="after the start"):
        await entries.move(db, user, second.id, ended_at=hours_before(now, 3))
    with pytest.raises(InvalidInput, match="future"):
        await entries.move(db, user, second.id, ended_at=now + HOUR)
    with pytest.raises(InvalidInput, match="less than"):
        await entries.move(db, user, second.id, ended_at=hours_before(now, 2.5))

    moved = await entries.move(db, user, second.id, started_at=hours_before(now, 4))
    assert moved.session.started_at == hours_before(now, 4)
    assert session_times(moved.session, now).effective == 2 * 3600 - 1800
    assert (await entries.move(db, user, second.id, started_at=hours_before(now, 4))).already


async def test_an_active_session_cannot_be_moved(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    running = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    with pytest.raises(Conflict, match="Clock out first"):
        await entries.move(db, user, running.id, started_at=hours_before(frozen.now(), 1))


async def test_someone_elses_session_cannot_be_moved(db: AsyncSession, frozen: Clock) -> None:
    now = frozen.now()
    theirs = await entries.add(
        db, fresh_user_id(), "Maths", hours_before(now, 2), hours_before(now, 1)
    )
    with pytest.raises(NotOwner):
        await entries.move(db, fresh_user_id(), theirs.id, started_at=hours_before(now, 3))


async def test_a_manual_entry_may_be_adjusted_from_anywhere(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    now = frozen.now()
    added = await entries.add(db, user, "Maths", hours_before(now, 2), hours_before(now, 1))
    adjusted = await sessions.adjust_time(db, user, added.id, "45m")
    assert adjusted.session.effective_override_seconds == 45 * 60


async def test_two_overlapping_entries_at_once_give_one_winner(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    user = fresh_user_id("race")
    now = frozen.now()
    async with committed() as db, db.begin():
        await sessions.clock_in(db, user, "Warm-up", source=SessionSource.API)
        await sessions.clock_out(db, user, (await sessions.current(db, user)).id)  # type: ignore[union-attr]

    async def add(offset: float) -> str:
        async with committed() as db, db.begin():
            try:
                await entries.add(
                    db, user, "Maths", hours_before(now, 3 + offset), hours_before(now, 1 + offset)
                )
            except Conflict:
                return "conflict"
            return "added"

    results = await asyncio.gather(*(add(offset) for offset in (0, 0.5, 0.25, 0.75)))
    assert sorted(results) == ["added", "conflict", "conflict", "conflict"]


def test_whole_seconds_are_kept() -> None:
    start = datetime(2026, 11, 17, 9, 0, 0, 999_999, tzinfo=UTC)
    assert entries._whole_seconds(start) == datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
