"""POST /api/github/webhook (and /api/github-timer-webhook/, the path BLT's timer uses).

Order of work: the HMAC signature over the raw body (`signature`), then JSON and the
fields the event needs (400), then the delivery id (a repeat answers "duplicate"), then
the event's rules (`app.github`) in the delivery's one transaction. The owners' DMs are
queued in that transaction and go out only once it has committed.

The delivery is claimed first: a twin delivery racing this one waits on the unique key
until this transaction ends, then answers "duplicate" with this one's answer, so the
work is done once without ever undoing any of it.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, github
from app.errors import BadRequest, TimetrackError
from app.issues import IssueRef
from app.models import StopReason
from server import body_limit, notify
from server.auth import throttle
from server.errors import error_body
from server.integrations.github import dispatch
from server.integrations.github.dispatch import OutOfScope
from server.integrations.github.graphql import LookupFailed
from server.integrations.github.oauth import router as oauth_router
from server.integrations.github.signature import Signed, verified_body
from server.transaction import Db

logger = logging.getLogger(__name__)

router = APIRouter(tags=["github"])
router.include_router(oauth_router)

WEBHOOK_PATH = "/api/github/webhook"
BLT_WEBHOOK_PATH = "/api/github-timer-webhook"
# GitHub caps a delivery's payload at 25 MB; every other body is capped far lower
# (`server.body_limit`, which applies it).
MAX_BODY_BYTES = body_limit.GITHUB_DELIVERY_MAX_BYTES
BODY_LIMITS = {
    path: MAX_BODY_BYTES for path in (WEBHOOK_PATH, BLT_WEBHOOK_PATH, f"{BLT_WEBHOOK_PATH}/")
}

DELIVERY = events.GITHUB_DELIVERY
DELIVERY_ID_MAX = 200
# The answer's `status` besides the domain's changes (`app.github.Change`).
PONG = "pong"
DUPLICATE = "duplicate"

_STOPPED_BECAUSE = {
    StopReason.UNASSIGNED: "⏹️ Clocked out: you were unassigned from {issue}. Review it below.",
    StopReason.ISSUE_CLOSED: "⏹️ Clocked out: {issue} was closed. Review it below.",
    StopReason.PROJECT_DONE: (
        "⏹️ Clocked out: {issue} was moved to done on its project board. Review it below."
    ),
}


def notice_for(outcome: github.PersonOutcome, issue: IssueRef) -> notify.Notice | None:
    """What the owner is told about a change to their session; None when nothing changed."""
    if outcome.change == github.Change.STARTED:
        return notify.Notice("▶️ Started: you were assigned {issue}.", issue.label)
    if outcome.change == github.Change.RESUMED:
        return notify.Notice("▶️ Resumed: you were assigned {issue}.", issue.label)
    if outcome.change == github.Change.STOPPED and outcome.session is not None:
        reason = outcome.session.stop_reason
        text = _STOPPED_BECAUSE.get(StopReason(reason)) if reason else None
        return notify.Notice(text or "⏹️ Clocked out: {issue}. Review it below.", issue.label)
    return None


def _tell_owners(db: AsyncSession, result: github.Result) -> None:
    for outcome in result.outcomes:
        if result.issue is None or outcome.session is None:
            continue
        notice = notice_for(outcome, result.issue)
        if notice is not None:
            notify.session_card(db, outcome.session, notice)
    for offer in result.offers:
        notify.switch_offer(db, offer)


def _answer(result: github.Result) -> dict[str, Any]:
    body: dict[str, Any] = {"status": str(result.change), "detail": result.detail}
    if result.many:
        body["session_ids"] = result.session_ids
        body["results"] = [
            {"login": o.login, "status": str(o.change)}
            | ({"session_id": o.session.id} if o.session is not None else {})
            for o in result.outcomes
        ]
    elif result.session_ids:
        body["session_id"] = result.session_ids[0]
    if result.summary is not None:
        body["summary"] = {
            "total_seconds": result.summary.total_seconds,
            "contributors": [
                {"login": login, "seconds": seconds}
                for login, seconds in result.summary.contributors
            ],
        }
    offers = result.offers
    if offers and result.issue is not None:
        if notify.enabled():
            body["detail"] += " A Switch button was offered by DM."
        issue = result.issue
        body["switch"] = {
            "repo": issue.repo,
            "number": issue.number,
            "url": issue.url,
            "title": issue.title,
            "logins": [o.login for o in result.outcomes if o.offer is not None],
        }
    return body


def _duplicate(delivery: str, previous: dict[str, Any]) -> JSONResponse:
    body: dict[str, Any] = {
        "status": DUPLICATE,
        "detail": f"Delivery {delivery} was handled already; nothing changed.",
    }
    for key in ("session_id", "session_ids"):
        if key in previous:
            body[key] = previous[key]
    body["original"] = previous
    return JSONResponse(body)


def _delivery_id(request: Request) -> str:
    # GitHub and the Action always send one; without it the delivery cannot be deduplicated,
    # but it is still recorded (and counted by /api/health) under a name of its own.
    given = request.headers.get("x-github-delivery", "").strip()[:DELIVERY_ID_MAX]
    return given or f"unnamed-{uuid.uuid4()}"


async def _reject(db: AsyncSession, delivery: str, error: TimetrackError) -> JSONResponse:
    """A signed delivery we refuse (400 when malformed), counted as a failed delivery by
    health."""
    body = error_body(error.code, error.detail)
    failed = events.Answer(body, status_code=error.status_code, succeeded=False)
    if not await events.record(db, DELIVERY, delivery, failed):
        await events.answer(db, DELIVERY, delivery, failed)
    return JSONResponse(body, status_code=error.status_code)


async def _out_of_scope(
    request: Request, db: AsyncSession, delivery: str, error: OutOfScope
) -> JSONResponse:
    """403: the secret that signed the delivery does not cover its repository. A secret
    used beyond its scope is a credential that failed, so it counts against the sender."""
    throttle.refused(request, db)
    return await _reject(db, delivery, error)


def _validation_detail(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"The payload is malformed at {where or 'its top level'}: {first.get('msg')}."


async def _claim(db: AsyncSession, delivery: str) -> dict[str, Any] | None:
    """Claim the delivery for this transaction; the earlier answer if it was handled.

    A delivery that failed on our side (a 5xx, such as a GitHub API outage during a project
    look-up) is forgotten instead, so that GitHub's "Redeliver" (same delivery id) runs it.
    """
    await events.forget_failed(db, DELIVERY, delivery)
    if await events.record(db, DELIVERY, delivery, events.Answer({})):
        return None
    found = await events.find(db, DELIVERY, delivery)
    return dict(found.response) if found is not None else {}


@router.post(WEBHOOK_PATH, summary="Receive a GitHub webhook delivery")
@router.post(f"{BLT_WEBHOOK_PATH}/", summary="The same, at the path BLT's timer uses")
@router.post(BLT_WEBHOOK_PATH, include_in_schema=False)
async def receive_delivery(
    request: Request, signed: Annotated[Signed, Depends(verified_body)], db: Db
) -> JSONResponse:
    event = request.headers.get("x-github-event", "").strip()
    delivery = _delivery_id(request)
    try:
        payload = json.loads(signed.body)
    except ValueError:
        return await _reject(db, delivery, BadRequest("The body is not JSON."))
    except RecursionError:
        return await _reject(db, delivery, BadRequest("The body is nested too deeply to read."))
    if not isinstance(payload, dict):
        return await _reject(db, delivery, BadRequest("The body is not a JSON object."))
    try:
        handle = dispatch.handler(event, payload, signed.scope)
    except OutOfScope as error:
        return await _out_of_scope(request, db, delivery, error)
    except BadRequest as error:
        return await _reject(db, delivery, error)
    except ValidationError as error:
        return await _reject(db, delivery, BadRequest(_validation_detail(error)))

    previous = await _claim(db, delivery)
    if previous is not None:
        return _duplicate(delivery, previous)
    if handle is None:
        answer = {"status": PONG, "detail": "The webhook is set up; timetrack is listening."}
        await events.answer(db, DELIVERY, delivery, events.Answer(answer))
        return JSONResponse(answer)
    try:
        result = await handle(db)
    except OutOfScope as error:
        return await _out_of_scope(request, db, delivery, error)
    except LookupFailed as error:
        # GitHub never retries a failed delivery by itself. A 502 shows red in the hook's
        # "Recent Deliveries", so whoever watches it sees the failure and can press
        # Redeliver; a 200 would hide it. The failure is recorded (health counts it) but not
        # treated as handled, so the redelivery, which keeps its delivery id, runs again.
        failure = {"error": "bad_gateway", "detail": f"{error} Nothing changed."}
        failed = events.Answer(failure, status_code=502, succeeded=False)
        await events.answer(db, DELIVERY, delivery, failed)
        return JSONResponse(failure, status_code=502)

    answer = _answer(result)
    await events.answer(db, DELIVERY, delivery, events.Answer(answer))
    _tell_owners(db, result)
    logger.info("github %s.%s: %s", event, payload.get("action") or "-", result.change)
    return JSONResponse(answer)
