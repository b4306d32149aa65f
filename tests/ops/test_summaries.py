"""Weekly summaries, driven by ticks in process on a frozen clock: the first tick on or
after Monday 08:00 in the user's own timezone sends last week's, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, allocation, entries, summaries
from app.clock import Clock
from app.db import transaction
from app.models import User
from server.cron.tick import tick
from tests.inbox import Inbox, button_ids
from tests.ops.conftest import fresh_user_id, session_started_at

NOV_16 = date(2026, 11, 16)

# (timezone, the Monday a week starts, when that week's summary is due in UTC)
MONDAYS = [
    pytest.param("Australia/Sydney", NOV_16, datetime(2026, 11, 22, 21, tzinfo=UTC), id="sydney"),
    pytest.param("Pacific/Honolulu", NOV_16, datetime(2026, 11, 23, 18, tzinfo=UTC), id="honolulu"),
    # Sydney's clocks went forward on Sunday 4 October 2026: a week of 167 hours, and a
    # summary due at 21:00 UTC where the week began at 14:00 UTC.
    pytest.param(
        "Australia/Sydney",
        date(2026, 9, 28),
        datetime(2026, 10, 4, 21, tzinfo=UTC),
        id="sydney-dst",
    ),
]


def local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


async def user_in(zone: str) -> str:
    user = fresh_user_id("summary")
    async with transaction() as db:
        await accounts.set_timezone(db, user, zone)
    return user


async def worked(user: str, subject: str, start: datetime, minutes: int) -> None:
    async with transaction() as db:
        await entries.add(db, user, subject, start, start + timedelta(minutes=minutes))


async def plan(user: str, subject: str, hours: float, week: date) -> None:
    async with transaction() as db:
        await allocation.set_allocation(db, user, subject, hours, week=week)


async def stored_user(user_id: str) -> User:
    async with transaction() as db:
        found = await db.get(User, user_id)
        assert found is not None
        return found


async def summaries_at(frozen: Clock, instant: datetime) -> int:
    frozen.freeze(instant)
    return (await tick()).summaries


@pytest.mark.parametrize(("zone", "monday", "due"), MONDAYS)
async def test_last_weeks_summary_comes_on_monday_at_eight_local_time_once(
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
    inbox: Inbox,
    zone: str,
    monday: date,
    due: datetime,
) -> None:
    sunday = monday + timedelta(days=6)
    frozen.freeze(local(zone, sunday, 23, 30))
    user = await user_in(zone)
    await plan(user, "Thesis", 2, monday)
    await plan(user, "Maths", 1, monday)
    await worked(user, "Thesis", local(zone, monday + timedelta(days=1), 10), 60)
    await worked(user, "Maths", local(zone, sunday, 22), 30)  # late on the week's last day
    async with transaction() as db:  # clocked out, not confirmed yet
        await session_started_at(
            db,
            user,
            local(zone, monday + timedelta(days=2), 14),
            subject="Thesis",
            ended_at=local(zone, monday + timedelta(days=2), 14, 45),
        )

    assert await summaries_at(frozen, local(zone, sunday, 23, 30)) == 0  # not on Sunday
    assert await summaries_at(frozen, due - timedelta(seconds=1)) == 0
    assert inbox.attempts == []

    assert await summaries_at(frozen, due) == 1
    [message] = inbox.to(user)
    embed = message["embeds"][0]
    assert embed["title"] == f"Your week of {monday:%a %d %b %Y}"
    assert embed["footer"]["text"] == f"Weeks start on Monday in {zone}"
    assert "**Maths**\n`▓▓▓▓▓░░░░░` 30m / 1h · 30m left" in embed["description"]
    assert "**Thesis**\n`▓▓▓▓▓▓▓▓░░` 1h 45m / 2h · 15m left" in embed["description"]
    assert "**Total** 2h 15m / 3h · 45m left" in embed["description"]
    assert embed["description"].endswith("⏳ 1 session waits for your review.")
    assert button_ids(message) == [f"plan:{monday.isoformat()}", "review:0"]

    for later in (timedelta(minutes=1), timedelta(hours=12), timedelta(days=3)):
        assert await summaries_at(frozen, due + later) == 0
    # The week after was empty: no summary, but the one after is scheduled.
    assert await summaries_at(frozen, due + timedelta(days=7)) == 0
    assert len(inbox.attempts) == 1
    following = await stored_user(user)
    assert following.next_summary_at == local(zone, monday + timedelta(days=21), 8)


async def test_an_empty_week_sends_nothing(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    zone = "Australia/Sydney"
    frozen.freeze(local(zone, NOV_16, 12))
    user = await user_in(zone)
    # Activity two weeks back, and a session still to review: last week itself was empty.
    await worked(user, "Thesis", local(zone, NOV_16 - timedelta(days=6), 9), 60)
    async with transaction() as db:
        await session_started_at(
            db,
            user,
            local(zone, NOV_16 - timedelta(days=5), 9),
            ended_at=local(zone, NOV_16 - timedelta(days=5), 10),
        )

    assert await summaries_at(frozen, datetime(2026, 11, 22, 21, tzinfo=UTC)) == 0
    assert inbox.attempts == []
    assert (await stored_user(user)).next_summary_at == datetime(2026, 11, 29, 21, tzinfo=UTC)


async def test_a_week_with_a_plan_and_nothing_tracked_is_summarised(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    zone = "Pacific/Honolulu"
    frozen.freeze(local(zone, NOV_16, 12))
    user = await user_in(zone)
    await plan(user, "Thesis", 5, NOV_16)

    assert await summaries_at(frozen, datetime(2026, 11, 23, 18, tzinfo=UTC)) == 1
    [message] = inbox.to(user)
    assert "`░░░░░░░░░░` 0m / 5h · 5h left" in message["embeds"][0]["description"]
    assert button_ids(message) == ["plan:2026-11-16"]  # nothing to review


async def test_summaries_off_means_none_and_back_on_sends_last_weeks_once(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    zone = "Australia/Sydney"
    frozen.freeze(local(zone, NOV_16, 12))
    user = await user_in(zone)
    await worked(user, "Thesis", local(zone, NOV_16, 9), 60)
    async with transaction() as db:
        await summaries.set_weekly_summary(db, user, False)

    assert await summaries_at(frozen, datetime(2026, 11, 22, 21, tzinfo=UTC)) == 0

    # Back on mid-week: last week's summary, never sent, goes out at the next tick.
    frozen.freeze(local(zone, NOV_16 + timedelta(days=9), 12))
    async with transaction() as db:
        await summaries.set_weekly_summary(db, user, True)
    assert (await tick()).summaries == 1

    # Off and on again: it was sent, so it is not sent again.
    async with transaction() as db:
        await summaries.set_weekly_summary(db, user, False)
        await summaries.set_weekly_summary(db, user, True)
    assert (await tick()).summaries == 0
    assert len(inbox.to(user)) == 1


async def test_moving_timezone_never_repeats_a_summary(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    frozen.freeze(local("Australia/Sydney", NOV_16 + timedelta(days=1), 12))
    user = await user_in("Australia/Sydney")
    await worked(user, "Thesis", local("Australia/Sydney", NOV_16 + timedelta(days=1), 9), 90)
    assert await summaries_at(frozen, datetime(2026, 11, 22, 21, tzinfo=UTC)) == 1

    # An hour later they land in Honolulu, where it is still Sunday morning.
    frozen.freeze(datetime(2026, 11, 22, 22, tzinfo=UTC))
    async with transaction() as db:
        await accounts.set_timezone(db, user, "Pacific/Honolulu")
    assert (await stored_user(user)).next_summary_at is None
    assert (await tick()).summaries == 0
    assert await summaries_at(frozen, datetime(2026, 11, 23, 18, tzinfo=UTC)) == 0
    assert len(inbox.to(user)) == 1
    assert (await stored_user(user)).next_summary_at == datetime(2026, 11, 30, 18, tzinfo=UTC)


async def test_two_ticks_at_once_send_one_summary_each(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    zone = "Australia/Sydney"
    frozen.freeze(local(zone, NOV_16, 12))
    users = [await user_in(zone) for _ in range(4)]
    for user in users:
        await worked(user, "Thesis", local(zone, NOV_16, 9), 60)
    frozen.freeze(datetime(2026, 11, 22, 21, tzinfo=UTC))

    first, second = await asyncio.gather(tick(), tick())

    assert first.summaries + second.summaries == len(users)
    assert sorted(recipient for recipient, _ in inbox.delivered) == sorted(users)


async def test_a_monday_before_eight_waits_for_eight(
    committed: async_sessionmaker[AsyncSession], frozen: Clock, inbox: Inbox
) -> None:
    zone = "Pacific/Honolulu"
    frozen.freeze(local(zone, NOV_16, 12))
    user = await user_in(zone)
    await worked(user, "Thesis", local(zone, NOV_16, 9), 60)

    # The first tick that looks at this user is early on Monday: due at 08:00 today.
    assert await summaries_at(frozen, local(zone, NOV_16 + timedelta(days=7), 6)) == 0
    assert (await stored_user(user)).next_summary_at == local(zone, NOV_16 + timedelta(days=7), 8)
    assert await summaries_at(frozen, local(zone, NOV_16 + timedelta(days=7), 8)) == 1
