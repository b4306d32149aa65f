from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Date, DateTime, Text, bindparam, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from app.models import Session, Subject, WeeklyAllocation
from app.repositories.base import Repository
from app.timing import effective_seconds_sql


@dataclass(frozen=True)
class WeekRow:
    subject: str
    allocated_seconds: int
    tracked_seconds: int
    unplanned: bool


class AllocationRepository(Repository):
    async def upsert(
        self, user_id: str, subject_id: int, week: date, minutes: int, at: datetime
    ) -> None:
        statement = insert(WeeklyAllocation).values(
            user_id=user_id,
            subject_id=subject_id,
            week_start_date=week,
            minutes_allocated=minutes,
            created_at=at,
            updated_at=at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[
                WeeklyAllocation.user_id,
                WeeklyAllocation.subject_id,
                WeeklyAllocation.week_start_date,
            ],
            set_={"minutes_allocated": minutes, "updated_at": at},
        )
        await self.db.execute(statement)

    async def count(self, user_id: str, week: date) -> int:
        statement = select(func.count()).where(
            WeeklyAllocation.user_id == user_id, WeeklyAllocation.week_start_date == week
        )
        return int(await self.db.scalar(statement) or 0)

    async def copy(self, user_id: str, source: date, target: date, at: datetime) -> int:
        """Copy the week of `source`'s plan to the week of `target`, one statement; subjects
        already planned in the target week are left as they are. Returns how many were
        copied."""
        rows = select(
            WeeklyAllocation.user_id,
            WeeklyAllocation.subject_id,
            literal(target, Date),
            WeeklyAllocation.minutes_allocated,
            literal(at, DateTime(timezone=True)),
            literal(at, DateTime(timezone=True)),
        ).where(WeeklyAllocation.user_id == user_id, WeeklyAllocation.week_start_date == source)
        statement = (
            insert(WeeklyAllocation)
            .from_select(
                [
                    "user_id",
                    "subject_id",
                    "week_start_date",
                    "minutes_allocated",
                    "created_at",
                    "updated_at",
                ],
                rows,
            )
            .on_conflict_do_nothing(
                index_elements=[
                    WeeklyAllocation.user_id,
                    WeeklyAllocation.subject_id,
                    WeeklyAllocation.week_start_date,
                ]
            )
            .returning(WeeklyAllocation.id)
        )
        return len((await self.db.execute(statement)).all())

    async def remove(self, user_id: str, subject_id: int, week: date) -> None:
        await self.db.execute(
            delete(WeeklyAllocation).where(
                WeeklyAllocation.user_id == user_id,
                WeeklyAllocation.subject_id == subject_id,
                WeeklyAllocation.week_start_date == week,
            )
        )

    async def week(
        self, user_id: str, week: date, start: datetime, end: datetime, now: datetime
    ) -> Sequence[WeekRow]:
        """Planned and tracked time per subject for one week, in one query.

        Sessions are found by the (user_id, started_at) index, so the cost follows the
        week's sessions, never the user's whole history.
        """
        parameters = {
            "owner_id": user_id,
            "monday": week,
            "week_from": start,
            "week_until": end,
            "now": now,
        }
        rows = (await self.db.execute(_week_statement(), parameters)).all()
        return [
            WeekRow(
                subject=name,
                allocated_seconds=int(allocated),
                tracked_seconds=int(seconds),
                unplanned=bool(is_unplanned),
            )
            for name, allocated, seconds, is_unplanned in rows
        ]


@cache
def _week_statement() -> Any:
    """The week query, built once (on first use) with bound parameters: building it and
    deriving its cache key cost several times what PostgreSQL spends running it."""
    owner = bindparam("owner_id", type_=Text)
    tracked = (
        select(
            Session.subject_id.label("subject_id"),
            func.sum(effective_seconds_sql(bindparam("now", type_=DateTime(timezone=True)))).label(
                "seconds"
            ),
        )
        .where(
            Session.user_id == owner,
            Session.started_at >= bindparam("week_from", type_=DateTime(timezone=True)),
            Session.started_at < bindparam("week_until", type_=DateTime(timezone=True)),
        )
        .group_by(Session.subject_id)
        .cte("tracked")
    )
    planned = (
        select(
            WeeklyAllocation.subject_id.label("subject_id"),
            (WeeklyAllocation.minutes_allocated * 60).label("seconds"),
        )
        .where(
            WeeklyAllocation.user_id == owner,
            WeeklyAllocation.week_start_date == bindparam("monday", type_=Date),
        )
        .cte("planned")
    )
    subject_id = func.coalesce(planned.c.subject_id, tracked.c.subject_id)
    unplanned = planned.c.subject_id.is_(None)
    return (
        select(
            Subject.name,
            func.coalesce(planned.c.seconds, 0),
            func.coalesce(tracked.c.seconds, 0),
            unplanned,
        )
        .select_from(
            planned.join(tracked, planned.c.subject_id == tracked.c.subject_id, full=True).join(
                Subject, Subject.id == subject_id
            )
        )
        .order_by(unplanned, func.lower(Subject.name))
    )
