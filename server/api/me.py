"""`/api/me` (who you are, your timezone) and `/api/subjects/`."""

from __future__ import annotations

from fastapi import APIRouter

from app import accounts, reminders, summaries
from server.api.routing import AuthFirstRoute
from server.api.schemas import MeOut, MePatchIn, SubjectListOut, SubjectOut, error_responses
from server.auth.caller import CurrentCaller
from server.transaction import Db

router = APIRouter(prefix="/api", tags=["account"], route_class=AuthFirstRoute)

# Enough for a datalist or a script; subject lists are short in practice.
SUBJECT_LIST_LIMIT = 500


@router.get("/me", response_model=MeOut, summary="You", responses=error_responses())
async def get_me(caller: CurrentCaller) -> MeOut:
    return MeOut.of(caller.user)


@router.patch(
    "/me",
    response_model=MeOut,
    summary="Change your timezone, reminders or weekly summary",
    responses=error_responses(422),
)
async def patch_me(body: MePatchIn, caller: CurrentCaller, db: Db) -> MeOut:
    user = caller.user
    if body.timezone is not None:
        user = await accounts.set_timezone(db, caller.id, body.timezone)
    # Sent as null, remind_after_minutes turns reminders off; left out, it stays as it is.
    if "remind_after_minutes" in body.model_fields_set:
        user = await reminders.set_remind_after(db, caller.id, body.remind_after_minutes)
    if body.weekly_summary is not None:
        user = await summaries.set_weekly_summary(db, caller.id, body.weekly_summary)
    return MeOut.of(user)


@router.get(
    "/subjects/",
    response_model=SubjectListOut,
    summary="Your subjects, the most recently tracked first",
    responses=error_responses(),
)
async def list_subjects(caller: CurrentCaller, db: Db) -> SubjectListOut:
    names = await accounts.subject_names(db, caller.id, limit=SUBJECT_LIST_LIMIT)
    return SubjectListOut(results=[SubjectOut(name=name) for name in names])
