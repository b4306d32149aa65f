"""Setting this week's plan: upsert, removal, bounds, fractional hours, subject reuse."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.allocation import set_allocation, week_report
from app.clock import Clock
from app.errors import InvalidInput
from tests.domain.conftest import fresh_user_id

THIS_WEEK = date(2026, 11, 16)  # the frozen clock's week in Sydney


async def allocation_rows(db: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    result = await db.execute(
        text(
            "SELECT s.name, a.week_start_date, a.minutes_allocated, a.created_at, a.updated_at"
            " FROM weekly_allocations a JOIN subjects s ON s.id = a.subject_id"
            " WHERE a.user_id = :user ORDER BY s.name, a.week_start_date"
        ),
        {"user": user_id},
    )
    return [dict(row) for row in result.mappings()]


async def subject_rows(db: AsyncSession, user_id: str) -> list[str]:
    result = await db.execute(
        text("SELECT name FROM subjects WHERE user_id = :user ORDER BY id"), {"user": user_id}
    )
    return list(result.scalars())


async def test_setting_twice_updates_the_one_row(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    first = await set_allocation(db, user, "Maths", 6, username="ada")
    created = frozen.now()
    assert [(row.subject, row.allocated_seconds) for row in first.rows] == [("Maths", 6 * 3600)]
    assert first.week_start == THIS_WEEK

    updated_at = frozen.advance(600)
    second = await set_allocation(db, user, "Maths", 4)

    assert [(row.subject, row.allocated_seconds) for row in second.rows] == [("Maths", 4 * 3600)]
    rows = await allocation_rows(db, user)
    assert rows == [
        {
            "name": "Maths",
            "week_start_date": THIS_WEEK,
            "minutes_allocated": 240,
            "created_at": created,
            "updated_at": updated_at,
        }
    ]


async def test_zero_removes_the_row(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    await set_allocation(db, user, "Maths", 6)
    await set_allocation(db, user, "Physics", 1)

    report = await set_allocation(db, user, "maths", 0)

    assert [row.subject for row in report.rows] == ["Physics"]
    assert [row["name"] for row in await allocation_rows(db, user)] == ["Physics"]
    # The subject itself stays; only the plan goes.
    assert await subject_rows(db, user) == ["Maths", "Physics"]


async def test_zero_for_an_unknown_subject_creates_nothing(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    report = await set_allocation(db, user, "Nothing yet", 0)
    assert report.rows == []
    assert await subject_rows(db, user) == []
    assert await allocation_rows(db, user) == []


@pytest.mark.parametrize(
    ("hours", "minutes"),
    [
        (168, 168 * 60),
        (168.0, 168 * 60),
        (1.5, 90),
        (0.25, 15),
        (2.345, 141),
        (1 / 3, 20),
        (0.01, 1),
        (7, 420),
    ],
)
async def test_fractional_hours_become_minutes(
    db: AsyncSession, frozen: Clock, hours: float, minutes: int
) -> None:
    user = fresh_user_id()
    report = await set_allocation(db, user, "Maths", hours)
    assert [row["minutes_allocated"] for row in await allocation_rows(db, user)] == [minutes]
    assert report.total_allocated_seconds == minutes * 60


@pytest.mark.parametrize("hours", [168.01, 169, -1, -0.01, math.nan, math.inf, -math.inf, True])
async def test_out_of_range_hours_are_rejected(
    db: AsyncSession, frozen: Clock, hours: float
) -> None:
    user = fresh_user_id()
    await set_allocation(db, user, "Maths", 2)
    with pytest.raises(InvalidInput):
        await set_allocation(db, user, "Maths", hours)
    assert [row["minutes_allocated"] for row in await allocation_rows(db, user)] == [120]


async def test_subject_in_another_case_reuses_the_subject(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    await set_allocation(db, user, "Search Engine", 2)
    report = await set_allocation(db, user, "  search   ENGINE ", 3)

    assert [(row.subject, row.allocated_seconds) for row in report.rows] == [
        ("Search Engine", 3 * 3600)
    ]
    assert await subject_rows(db, user) == ["Search Engine"]


async def test_plans_of_other_weeks_are_separate(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    await set_allocation(db, user, "Maths", 2)
    await set_allocation(db, user, "Maths", 5, week=date(2026, 11, 23))

    assert (await week_report(db, user)).total_allocated_seconds == 2 * 3600
    next_week = await week_report(db, user, week=date(2026, 11, 23))
    assert next_week.total_allocated_seconds == 5 * 3600
    assert [row["week_start_date"] for row in await allocation_rows(db, user)] == [
        THIS_WEEK,
        date(2026, 11, 23),
    ]


async def test_a_week_given_by_any_of_its_days_is_stored_under_its_monday(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    report = await set_allocation(db, user, "Maths", 2, week=date(2026, 11, 26))  # a Thursday
    assert report.week_start == date(2026, 11, 23)
    assert [row["week_start_date"] for row in await allocation_rows(db, user)] == [
        date(2026, 11, 23)
    ]
    assert (await week_report(db, user, week=date(2026, 11, 29))).total_allocated_seconds == 7200


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
async def test_bad_subject_names_are_rejected(db: AsyncSession, frozen: Clock, name: str) -> None:
    user = fresh_user_id()
    with pytest.raises(InvalidInput):
        await set_allocation(db, user, name, 1)
    with pytest.raises(InvalidInput):
        await set_allocation(db, user, name, 0)
