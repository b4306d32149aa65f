"""The week report: allocated against tracked per subject, in the user's own week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app import session as sessions
from app.allocation import remaining_seconds, set_allocation, week_report
from app.clock import Clock
from app.models import Session, SessionSource
from app.repositories.allocations import WeekRow
from tests.domain.conftest import fresh_user_id

MINUTE, HOUR = 60, 3600


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def add_ended(
    db: AsyncSession,
    user_id: str,
    subject: str,
    started_at: datetime,
    seconds: int,
    *,
    paused: int = 0,
    override: int | None = None,
    confirmed: bool = False,
) -> None:
    """A finished session written directly, as history would be."""
    await accounts.ensure_user(db, user_id)
    found = await accounts.find_or_create_subject(db, user_id, subject)
    await db.execute(
        insert(Session).values(
            user_id=user_id,
            subject_id=found.id,
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=seconds),
            total_paused_seconds=paused,
            effective_override_seconds=override,
            status="ENDED_CONFIRMED" if confirmed else "ENDED_UNCONFIRMED",
            source="web",
        )
    )


async def user_in(db: AsyncSession, timezone: str) -> str:
    user_id = fresh_user_id(timezone.split("/")[-1].lower())
    await accounts.set_timezone(db, user_id, timezone)
    return user_id


def by_subject(rows: list[WeekRow]) -> dict[str, tuple[int, int, bool]]:
    return {
        row.subject: (row.allocated_seconds, row.tracked_seconds, row.unplanned) for row in rows
    }


async def test_report_of_the_current_week(db: AsyncSession, frozen: Clock) -> None:
    # Frozen at Wed 18 Nov 2026 12:00 in Sydney (UTC+11); the week began Sun 15 Nov 13:00 UTC.
    user = await user_in(db, "Australia/Sydney")
    other = await user_in(db, "Australia/Sydney")
    await set_allocation(db, user, "Maths", 5)
    await set_allocation(db, user, "Physics", 2.5)
    await set_allocation(db, user, "chemistry", 1)

    # Monday 09:00 local, two hours with a quarter hour paused.
    await add_ended(db, user, "Maths", utc(2026, 11, 15, 22, 0), 2 * HOUR, paused=15 * MINUTE)
    # Exactly local Monday 00:00: the first instant of the week.
    await add_ended(db, user, "maths", utc(2026, 11, 15, 13, 0), 10 * MINUTE)
    # Sunday 23:30 local, running past midnight: it belongs to the week before.
    await add_ended(db, user, "Maths", utc(2026, 11, 15, 12, 30), 2 * HOUR)
    # Monday 00:00 of next week: the week after (end is exclusive).
    await add_ended(db, user, "Maths", utc(2026, 11, 22, 13, 0), HOUR)
    # An adjusted session counts what the user said, not what was measured.
    await add_ended(db, user, "Physics", utc(2026, 11, 16, 23, 0), 3 * HOUR, override=45 * MINUTE)
    # Tracked but not planned.
    await add_ended(db, user, "History", utc(2026, 11, 16, 1, 0), 30 * MINUTE, confirmed=True)
    # Someone else's time never shows.
    await add_ended(db, other, "Maths", utc(2026, 11, 16, 1, 0), 4 * HOUR)
    # Running now for 40 minutes: counted up to now.
    frozen.advance(-40 * MINUTE)
    await sessions.clock_in(db, user, "Art", source=SessionSource.DISCORD)
    frozen.advance(40 * MINUTE)

    report = await week_report(db, user)

    assert report.week_start == date(2026, 11, 16)
    assert report.timezone == "Australia/Sydney"
    assert report.generated_at == frozen.now()
    assert [(row.subject, row.unplanned) for row in report.rows] == [
        ("chemistry", False),
        ("Maths", False),
        ("Physics", False),
        ("Art", True),
        ("History", True),
    ]
    assert by_subject(report.rows) == {
        "chemistry": (HOUR, 0, False),
        "Maths": (5 * HOUR, 105 * MINUTE + 10 * MINUTE, False),
        "Physics": (150 * MINUTE, 45 * MINUTE, False),
        "Art": (0, 40 * MINUTE, True),
        "History": (0, 30 * MINUTE, True),
    }
    assert report.total_allocated_seconds == 8.5 * HOUR
    assert report.total_tracked_seconds == (115 + 45 + 40 + 30) * MINUTE
    remaining = {row.subject: remaining_seconds(row) for row in report.rows}
    assert remaining == {
        "chemistry": HOUR,
        "Maths": 5 * HOUR - 115 * MINUTE,
        "Physics": 105 * MINUTE,
        "Art": 0,
        "History": 0,
    }

    # The running session keeps counting; nothing else moves.
    frozen.advance(5 * MINUTE)
    later = by_subject((await week_report(db, user)).rows)
    assert later["Art"] == (0, 45 * MINUTE, True)
    assert later["Maths"] == (5 * HOUR, 115 * MINUTE, False)

    # The week before holds the Sunday-night session, though it ended on Monday.
    before = await week_report(db, user, week=date(2026, 11, 12))
    assert before.week_start == date(2026, 11, 9)
    assert by_subject(before.rows) == {"Maths": (0, 2 * HOUR, True)}


async def test_paused_session_counts_without_the_open_pause(
    db: AsyncSession, frozen: Clock
) -> None:
    user = await user_in(db, "Australia/Sydney")
    started = await sessions.clock_in(db, user, "Reading", source=SessionSource.WEB)
    frozen.advance(25 * MINUTE)
    await sessions.pause(db, user, started.id)
    frozen.advance(20 * MINUTE)

    assert by_subject((await week_report(db, user)).rows) == {"Reading": (0, 25 * MINUTE, True)}
    frozen.advance(3 * HOUR)
    assert by_subject((await week_report(db, user)).rows) == {"Reading": (0, 25 * MINUTE, True)}

    await sessions.resume(db, user, started.id)
    frozen.advance(5 * MINUTE)
    await sessions.clock_out(db, user, started.id)
    frozen.advance(HOUR)
    assert by_subject((await week_report(db, user)).rows) == {"Reading": (0, 30 * MINUTE, True)}


async def test_session_started_last_week_and_still_running_counts_last_week(
    db: AsyncSession, frozen: Clock
) -> None:
    user = await user_in(db, "Australia/Sydney")
    frozen.freeze(utc(2026, 11, 15, 12, 0))  # Sunday 23:00 local
    await sessions.clock_in(db, user, "Night shift", source=SessionSource.API)
    frozen.freeze(utc(2026, 11, 15, 15, 0))  # Monday 02:00 local

    assert (await week_report(db, user)).rows == []
    last_week = await week_report(db, user, week=date(2026, 11, 9))
    assert by_subject(last_week.rows) == {"Night shift": (0, 3 * HOUR, True)}


async def test_report_for_a_user_we_have_not_met_is_empty(db: AsyncSession, frozen: Clock) -> None:
    report = await week_report(db, fresh_user_id("stranger"))
    assert report.rows == []
    assert report.total_allocated_seconds == report.total_tracked_seconds == 0
    assert report.timezone == "Australia/Sydney"


async def test_week_may_be_any_day_of_it(db: AsyncSession, frozen: Clock) -> None:
    user = await user_in(db, "Australia/Sydney")
    await set_allocation(db, user, "Maths", 3)
    for day in range(16, 23):
        report = await week_report(db, user, week=date(2026, 11, day))
        assert report.week_start == date(2026, 11, 16)
        assert by_subject(report.rows) == {"Maths": (3 * HOUR, 0, False)}
    assert (await week_report(db, user, week=date(2026, 11, 23))).rows == []


# Sydney leaves daylight time on Sun 5 Apr 2026 (03:00 AEDT -> 02:00 AEST) and enters it
# on Sun 4 Oct 2026 (02:00 AEST -> 03:00 AEDT).
DST_CASES = [
    # (session start in UTC, the local Monday of its week)
    (utc(2026, 3, 29, 12, 59), date(2026, 3, 23)),  # Sun 29 Mar 23:59 AEDT
    (utc(2026, 3, 29, 13, 0), date(2026, 3, 30)),  # Mon 30 Mar 00:00 AEDT
    (utc(2026, 4, 4, 15, 30), date(2026, 3, 30)),  # Sun 5 Apr 02:30 AEDT (first time)
    (utc(2026, 4, 4, 16, 30), date(2026, 3, 30)),  # Sun 5 Apr 02:30 AEST (second time)
    (utc(2026, 4, 5, 13, 30), date(2026, 3, 30)),  # Sun 5 Apr 23:30 AEST
    (utc(2026, 4, 5, 14, 0), date(2026, 4, 6)),  # Mon 6 Apr 00:00 AEST
    (utc(2026, 9, 27, 13, 59), date(2026, 9, 21)),  # Sun 27 Sep 23:59 AEST
    (utc(2026, 9, 27, 14, 0), date(2026, 9, 28)),  # Mon 28 Sep 00:00 AEST
    (utc(2026, 10, 3, 16, 30), date(2026, 9, 28)),  # Sun 4 Oct 03:30 AEDT, just after the jump
    (utc(2026, 10, 4, 12, 30), date(2026, 9, 28)),  # Sun 4 Oct 23:30 AEDT
    (utc(2026, 10, 4, 13, 0), date(2026, 10, 5)),  # Mon 5 Oct 00:00 AEDT
]


@pytest.mark.parametrize(("started_at", "monday"), DST_CASES, ids=lambda v: str(v))
async def test_sydney_weeks_across_daylight_saving(
    db: AsyncSession, frozen: Clock, started_at: datetime, monday: date
) -> None:
    user = await user_in(db, "Australia/Sydney")
    await add_ended(db, user, "Maths", started_at, 90 * MINUTE)

    mine = await week_report(db, user, week=monday + timedelta(days=3))
    assert mine.week_start == monday
    assert by_subject(mine.rows) == {"Maths": (0, 90 * MINUTE, True)}
    for neighbour in (monday - timedelta(days=7), monday + timedelta(days=7)):
        assert (await week_report(db, user, week=neighbour)).rows == []


async def test_allocation_lands_in_the_local_week_across_daylight_saving(
    db: AsyncSession, frozen: Clock
) -> None:
    user = await user_in(db, "Australia/Sydney")
    # Sun 5 Apr 2026 23:30 AEST, in the 169-hour week: still that week's plan.
    frozen.freeze(utc(2026, 4, 5, 13, 30))
    report = await set_allocation(db, user, "Maths", 2)
    assert report.week_start == date(2026, 3, 30)
    # Half an hour later it is the next Monday, and a new week with no plan.
    frozen.advance(30 * MINUTE)
    assert (await week_report(db, user)).week_start == date(2026, 4, 6)
    assert (await week_report(db, user)).rows == []


async def test_honolulu_and_kiritimati_see_different_weeks_at_one_instant(
    db: AsyncSession, frozen: Clock
) -> None:
    honolulu = await user_in(db, "Pacific/Honolulu")  # UTC-10 all year
    kiritimati = await user_in(db, "Pacific/Kiritimati")  # UTC+14 all year
    # Sun 22 Nov 2026 11:00 UTC: Sunday 01:00 in Honolulu, Monday 01:00 in Kiritimati.
    frozen.freeze(utc(2026, 11, 22, 11, 0))
    for user in (honolulu, kiritimati):
        await sessions.clock_in(db, user, "Surf", source=SessionSource.DISCORD)
    frozen.advance(HOUR)

    hono = await week_report(db, honolulu)
    kiri = await week_report(db, kiritimati)

    assert hono.week_start == date(2026, 11, 16)
    assert kiri.week_start == date(2026, 11, 23)
    assert by_subject(hono.rows) == {"Surf": (0, HOUR, True)}
    assert by_subject(kiri.rows) == {"Surf": (0, HOUR, True)}
    assert (await week_report(db, kiritimati, week=date(2026, 11, 16))).rows == []
    # Honolulu's week runs Mon 10:00 UTC to Mon 10:00 UTC; Kiritimati's Sun 10:00 to Sun 10:00.
    await add_ended(db, honolulu, "Surf", utc(2026, 11, 23, 9, 59), MINUTE)
    await add_ended(db, kiritimati, "Surf", utc(2026, 11, 22, 9, 59), MINUTE)
    await add_ended(db, kiritimati, "Surf", utc(2026, 11, 22, 10, 0), MINUTE)
    assert by_subject((await week_report(db, honolulu)).rows)["Surf"][1] == HOUR + MINUTE
    assert by_subject((await week_report(db, kiritimati)).rows)["Surf"][1] == HOUR + MINUTE
    last_week = await week_report(db, kiritimati, week=date(2026, 11, 16))
    assert by_subject(last_week.rows) == {"Surf": (0, MINUTE, True)}


async def test_allocation_of_the_current_week_follows_the_timezone(
    db: AsyncSession, frozen: Clock
) -> None:
    frozen.freeze(utc(2026, 11, 22, 11, 0))
    honolulu = await user_in(db, "Pacific/Honolulu")
    kiritimati = await user_in(db, "Pacific/Kiritimati")
    assert (await set_allocation(db, honolulu, "Surf", 1)).week_start == date(2026, 11, 16)
    assert (await set_allocation(db, kiritimati, "Surf", 1)).week_start == date(2026, 11, 23)
