"""`/api/timelogs/`: BLT's timer API over the session state machine.

Routes translate only: the domain decides, and an action that finds its target state
already in place (`Outcome.already`) is a 409 here, as BLT's clients expect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import URL

from app import entries, history
from app import session as sessions
from app.clock import clock
from app.config import get_settings
from app.errors import Conflict, InvalidInput
from app.issues import IssueRef, parse_issue_url
from app.limits import SUBJECT_MAX_LENGTH
from app.models import Session, SessionStatus
from app.weeks import parse_day
from server.api.params import SessionId
from server.api.routing import AuthFirstRoute
from server.api.schemas import (
    EntryIn,
    SessionOut,
    SessionPageOut,
    SessionPatchIn,
    StartIn,
    StopIn,
    Text,
    error_responses,
)
from server.auth.caller import Caller, CurrentCaller
from server.transaction import Db

router = APIRouter(prefix="/api/timelogs", tags=["timelogs"], route_class=AuthFirstRoute)

Action = Callable[[AsyncSession, str, int], Awaitable[sessions.Outcome]]


def _out(session: Session) -> SessionOut:
    return SessionOut.of(session, clock.now())


def _settled(outcome: sessions.Outcome) -> SessionOut:
    if outcome.notice is not None:
        raise Conflict(outcome.notice)
    return _out(outcome.session)


def _page_url(request: Request, limit: int, offset: int) -> str:
    # On the public URL: the Host header is whatever the client chose to send.
    public = URL(f"{get_settings().base_url}{request.url.path}?{request.url.query}")
    url = public.include_query_params(limit=limit, offset=offset)
    return str(url.remove_query_params("offset") if offset == 0 else url)


@router.get(
    "/",
    response_model=SessionPageOut,
    summary="List your sessions, newest first",
    responses=error_responses(422),
)
async def list_timelogs(
    request: Request,
    caller: CurrentCaller,
    db: Db,
    status: SessionStatus | None = None,
    subject: Annotated[Text | None, Query(max_length=SUBJECT_MAX_LENGTH)] = None,
    active: Annotated[
        bool | None, Query(description="true: running or paused; false: ended.")
    ] = None,
    limit: Annotated[int, Query(ge=1, description="Page size; at most 100.")] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> SessionPageOut:
    found = await history.page(
        db, caller.id, status=status, subject=subject, active=active, limit=limit, offset=offset
    )
    limit = found.limit
    following = offset + limit
    return SessionPageOut(
        count=found.count,
        next=_page_url(request, limit, following) if following < found.count else None,
        previous=_page_url(request, limit, max(0, offset - limit)) if offset > 0 else None,
        results=[_out(session) for session in found.sessions],
    )


@router.get(
    "/current/",
    response_model=SessionOut,
    summary="The running or paused session",
    responses={204: {"description": "Nothing is being tracked."}, **error_responses()},
)
async def current_timelog(caller: CurrentCaller, db: Db) -> Any:
    session = await sessions.current(db, caller.id)
    if session is None:
        return Response(status_code=204)
    return _out(session)


@router.get(
    "/export.csv",
    response_class=Response,
    summary="Your sessions as CSV, times in your timezone",
    responses={
        200: {
            "description": "One row per session that started between the two days.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **error_responses(422),
    },
)
async def export_timelogs(
    caller: CurrentCaller,
    db: Db,
    first: Annotated[
        str | None, Query(alias="from", description="First day, YYYY-MM-DD (inclusive).")
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", description="Last day, YYYY-MM-DD (inclusive).")
    ] = None,
) -> Response:
    export = await history.export_csv(
        db,
        caller.id,
        first_day=parse_day(first, "from"),
        last_day=parse_day(last, "to"),
    )
    return Response(
        content=export.text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.post(
    "/",
    status_code=201,
    response_model=SessionOut,
    summary="Add time worked earlier (an ended, confirmed session)",
    responses=error_responses(409, 422),
)
async def add_timelog(body: EntryIn, caller: CurrentCaller, db: Db) -> SessionOut:
    session = await entries.add(
        db,
        caller.id,
        body.subject,
        body.started_at,
        body.ended_at,
        paused_seconds=body.paused_seconds,
        goal=body.goal,
        issue=_issue(body.github_issue_url),
    )
    return _out(session)


def _issue(url: str | None) -> IssueRef | None:
    return parse_issue_url(url) if url and url.strip() else None


@router.post(
    "/start/",
    status_code=201,
    response_model=SessionOut,
    summary="Clock in",
    responses=error_responses(409, 422),
)
async def start_timelog(body: StartIn, caller: CurrentCaller, db: Db) -> SessionOut:
    session = await sessions.clock_in(
        db,
        caller.id,
        body.subject,
        body.goal,
        source=caller.source,
        issue=_issue(body.github_issue_url),
    )
    return _out(session)


async def _act(action: Action, caller: Caller, db: AsyncSession, session_id: int) -> Any:
    return _settled(await action(db, caller.id, session_id))


_ACTION_RESPONSES = error_responses(404, 409, 422)


@router.post(
    "/{session_id}/pause/",
    response_model=SessionOut,
    summary="Pause a running session",
    responses=_ACTION_RESPONSES,
)
async def pause_timelog(session_id: SessionId, caller: CurrentCaller, db: Db) -> Any:
    return await _act(sessions.pause, caller, db, session_id)


@router.post(
    "/{session_id}/resume/",
    response_model=SessionOut,
    summary="Resume a paused session",
    responses=_ACTION_RESPONSES,
)
async def resume_timelog(session_id: SessionId, caller: CurrentCaller, db: Db) -> Any:
    return await _act(sessions.resume, caller, db, session_id)


@router.post(
    "/{session_id}/stop/",
    response_model=SessionOut,
    summary="Clock out; it then waits for your review",
    responses=_ACTION_RESPONSES,
)
async def stop_timelog(
    session_id: SessionId, caller: CurrentCaller, db: Db, body: StopIn | None = None
) -> Any:
    goal = body.purpose if body is not None else None
    return _settled(await sessions.clock_out(db, caller.id, session_id, goal))


@router.post(
    "/{session_id}/confirm/",
    response_model=SessionOut,
    summary="Confirm a clocked-out session",
    responses=_ACTION_RESPONSES,
)
async def confirm_timelog(session_id: SessionId, caller: CurrentCaller, db: Db) -> Any:
    return await _act(sessions.confirm, caller, db, session_id)


@router.post(
    "/{session_id}/reopen/",
    response_model=SessionOut,
    summary="Undo a clock-out; the time since counts as paused",
    responses=_ACTION_RESPONSES,
)
async def reopen_timelog(session_id: SessionId, caller: CurrentCaller, db: Db) -> Any:
    return await _act(sessions.reopen, caller, db, session_id)


@router.get(
    "/{session_id}/",
    response_model=SessionOut,
    summary="One of your sessions",
    responses=error_responses(404, 422),
)
async def get_timelog(session_id: SessionId, caller: CurrentCaller, db: Db) -> SessionOut:
    return _out(await sessions.get(db, caller.id, session_id))


@router.patch(
    "/{session_id}/",
    response_model=SessionOut,
    summary="Correct the goal, note, effective time, or when an ended session ran",
    responses=error_responses(404, 409, 422),
)
async def patch_timelog(
    session_id: SessionId, body: SessionPatchIn, caller: CurrentCaller, db: Db
) -> SessionOut:
    if body.effective_duration is not None and body.effective_seconds is not None:
        raise InvalidInput("Give effective_duration or effective_seconds, not both.")
    given = body.model_fields_set
    session = await sessions.get(db, caller.id, session_id)
    if "goal" in given:
        session = (await sessions.edit_goal(db, caller.id, session_id, body.goal)).session
    if "note" in given:
        session = (await sessions.edit_note(db, caller.id, session_id, body.note)).session
    value: str | int | None = (
        body.effective_duration if body.effective_duration is not None else body.effective_seconds
    )
    if value is not None:
        outcome = await sessions.adjust_time(db, caller.id, session_id, value, allow_confirmed=True)
        session = outcome.session
    if body.started_at is not None or body.ended_at is not None:
        moved = await entries.move(
            db, caller.id, session_id, started_at=body.started_at, ended_at=body.ended_at
        )
        session = moved.session
    return _out(session)


@router.delete(
    "/{session_id}/",
    status_code=204,
    response_class=Response,
    summary="Delete one of your sessions",
    responses=error_responses(404, 422),
)
async def delete_timelog(session_id: SessionId, caller: CurrentCaller, db: Db) -> Response:
    await sessions.delete(db, caller.id, session_id)
    return Response(status_code=204)
