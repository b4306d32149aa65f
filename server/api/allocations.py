"""`/api/allocations/`: this week's plan against what was tracked."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app import allocation
from app.history import check_day
from app.weeks import parse_week
from server.api.params import CurrentCaller, Db
from server.api.schemas import AllocationIn, Text, WeekReportOut, error_responses

router = APIRouter(prefix="/api/allocations", tags=["allocations"])

WeekQuery = Annotated[
    str | None,
    Query(
        description="Any day of the week, YYYY-MM-DD; the current week when omitted.",
        examples=["2026-11-18"],
    ),
]


def _week(text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    return check_day(parse_week(text), "week")


@router.get(
    "/",
    response_model=WeekReportOut,
    summary="The week's plan and tracked time per subject",
    responses=error_responses(422),
)
async def get_week(caller: CurrentCaller, db: Db, week: WeekQuery = None) -> WeekReportOut:
    return WeekReportOut.of(await allocation.week_report(db, caller.id, week=_week(week)))


@router.put(
    "/{subject:path}",
    response_model=WeekReportOut,
    summary="Plan hours for a subject this week (0 removes it)",
    # 404: a subject with a line break cannot be routed at all.
    responses=error_responses(404, 422),
)
async def put_allocation(
    subject: Annotated[Text, Path(max_length=200, description="The subject's name.")],
    body: AllocationIn,
    caller: CurrentCaller,
    db: Db,
    week: WeekQuery = None,
) -> WeekReportOut:
    report = await allocation.set_allocation(db, caller.id, subject, body.hours, week=_week(week))
    return WeekReportOut.of(report)
