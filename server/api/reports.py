"""`/api/reports/`: where the time went over any run of days, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import reports
from app.reports import GroupBy
from app.weeks import parse_day
from server.api.schemas import SummaryOut, error_responses
from server.auth.caller import CurrentCaller
from server.transaction import Db

router = APIRouter(prefix="/api/reports", tags=["reports"])

First = Annotated[
    str | None,
    Query(alias="from", description="First day, YYYY-MM-DD, in your timezone (inclusive)."),
]
Last = Annotated[
    str | None, Query(alias="to", description="Last day, YYYY-MM-DD (inclusive); 366 days at most.")
]
Grouping = Annotated[GroupBy, Query(description="How to group the time.")]


async def _summary(
    caller: CurrentCaller, db: Db, first: str | None, last: str | None, group_by: GroupBy
) -> reports.Summary:
    return await reports.summary(
        db,
        caller.id,
        first=parse_day(first, "from"),
        last=parse_day(last, "to"),
        group_by=group_by,
    )


@router.get(
    "/summary",
    response_model=SummaryOut,
    response_model_by_alias=True,
    summary="Your tracked time between two days, grouped (default: this week, by subject)",
    responses=error_responses(422),
)
async def summary(
    caller: CurrentCaller,
    db: Db,
    first: First = None,
    last: Last = None,
    group_by: Grouping = GroupBy.SUBJECT,
) -> SummaryOut:
    return SummaryOut.of(await _summary(caller, db, first, last, group_by))


@router.get(
    "/summary.csv",
    response_class=Response,
    summary="The same summary as CSV",
    responses={
        200: {
            "description": "One row per group: key, label, seconds, hours, duration, sessions.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **error_responses(422),
    },
)
async def summary_csv(
    caller: CurrentCaller,
    db: Db,
    first: First = None,
    last: Last = None,
    group_by: Grouping = GroupBy.SUBJECT,
) -> Response:
    export = reports.as_csv(await _summary(caller, db, first, last, group_by))
    return Response(
        content=export.text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
