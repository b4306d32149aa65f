"""`/api/allocations/`: this week's plan against what was tracked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app import allocation
from app.limits import SUBJECT_MAX_LENGTH
from app.weeks import parse_week
from server.api.routing import AuthFirstRoute
from server.api.schemas import AllocationIn, Text, WeekReportOut, error_responses
from server.auth.caller import CurrentCaller
from server.transaction import Db

router = APIRouter(prefix="/api/allocations", tags=["allocations"], route_class=AuthFirstRoute)

WeekQuery = Annotated[
    str | None,
    Query(
        description="Any day of the week, YYYY-MM-DD; the current week when omitted.",
        examples=["2026-11-18"],
    ),
]


@router.get(
    "/",
    response_model=WeekReportOut,
    summary="The week's plan and tracked time per subject",
    responses=error_responses(422),
)
async def get_week(caller: CurrentCaller, db: Db, week: WeekQuery = None) -> WeekReportOut:
    return WeekReportOut.of(await allocation.week_report(db, caller.id, week=parse_week(week)))


@router.put(
    "/{subject:path}",
    response_model=WeekReportOut,
    summary="Plan hours for a subject this week (0 removes it)",
    # 404: a subject with a line break cannot be routed at all.
    responses=error_responses(404, 422),
)
async def put_allocation(
    subject: Annotated[
        Text, Path(max_length=SUBJECT_MAX_LENGTH, description="The subject's name.")
    ],
    body: AllocationIn,
    caller: CurrentCaller,
    db: Db,
    week: WeekQuery = None,
) -> WeekReportOut:
    report = await allocation.set_allocation(
        db, caller.id, subject, body.hours, week=parse_week(week)
    )
    return WeekReportOut.of(report)
