"""POST /api/github/webhook (and the seed's path, /api/github-timer-webhook/).

Order of work: the HMAC signature over the raw body (server.dependencies), then JSON and
the fields the event needs (400), then the delivery id (a repeat answers "duplicate"),
then the event's rules (app.github) and the delivery's record in the same transaction.
DMs go out only after that transaction has committed.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import github
from app.config import get_settings
from app.errors import BadRequest
from app.github import Result, Status
from app.github_switch import offer_record
from server.dependencies import get_db, verified_github_body
from server.discord.client import DiscordClient
from server.github import notify, switch
from server.github.graphql import STATUS_FIELD, GithubGraphql, LookupFailed
from server.github.oauth import router as oauth_router
from server.github.payloads import IssuesEvent, ProjectsV2ItemEvent

logger = logging.getLogger(__name__)

router = APIRouter(tags=["github"])
router.include_router(oauth_router)

# The Switch button of the DMs below is answered through Discord's interactions endpoint.
switch.register()

Handler = Callable[[AsyncSession], Awaitable[Result]]
DELIVERY_ID_MAX = 200


def _fixed(result: Result) -> Handler:
    async def handle(db: AsyncSession) -> Result:
        return result

    return handle


def _issues(payload: dict[str, Any]) -> Handler:
    event = IssuesEvent.model_validate(payload)
    issue = event.issue_ref()
    action = event.action or ""
    if event.is_draft_or_pull_request:
        return _fixed(github.ignored("Drafts and pull requests are not tracked."))
    if action == "assigned":
        login = event.assignee_login()
        return lambda db: github.issue_assigned(db, issue, login)
    if action == "unassigned":
        login = event.assignee_login()
        return lambda db: github.issue_unassigned(db, issue, login)
    if action == "closed":
        return lambda db: github.issue_closed(db, issue)
    return _fixed(github.ignored(f"issues.{action or '?'} does not change any timer."))


def _projects_v2_item(payload: dict[str, Any]) -> Handler:
    event = ProjectsV2ItemEvent.model_validate(payload)
    if event.action != "edited":
        return _fixed(github.ignored(f"projects_v2_item.{event.action} does not change timers."))
    change = event.changes.field_value if event.changes is not None else None
    if change is None:
        return _fixed(github.ignored("Only a change of the item's status changes timers."))
    if change.field_type and change.field_type != "single_select":
        return _fixed(github.ignored("The changed field is not the status."))
    if change.field_name and change.field_name.casefold() != STATUS_FIELD.casefold():
        return _fixed(github.ignored(f"The changed field is {change.field_name}, not the status."))
    item = event.projects_v2_item
    if item is None or not item.node_id:
        raise BadRequest("The projects_v2_item event lacks projects_v2_item.node_id.")
    if item.content_type and item.content_type != "Issue":
        return _fixed(github.ignored("Draft issues and pull requests are not tracked."))
    settings = get_settings()
    if settings.github_token is None:
        return _fixed(
            github.skipped("GITHUB_TOKEN is not set, so project board moves are not looked up.")
        )
    start, done = settings.github_project_start_status, settings.github_project_done_status
    moved_to = change.to_name
    if moved_to is not None and moved_to.strip().casefold() not in {
        start.strip().casefold(),
        done.strip().casefold(),
    }:
        return _fixed(
            github.ignored(f"Moved to {moved_to}, which is neither {start!r} nor {done!r}.")
        )
    lookup = GithubGraphql(
        api_base=settings.github_api_base, token=settings.github_token.get_secret_value()
    )
    node_id = item.node_id

    async def handle(db: AsyncSession) -> Result:
        found = await lookup.project_item(node_id)
        if found.issue is None:
            kind = found.content_type or "hidden item"
            return github.ignored(f"The item is a {kind}, not an issue; it is not tracked.")
        # Older payloads name the changed field only by node id.
        field_id = change.field_node_id
        if change.field_name is None and field_id and field_id != found.status_field_id:
            return github.ignored("The changed field is not the status.")
        return await github.project_item_moved(
            db,
            found.issue,
            found.assignees,
            moved_to if moved_to is not None else found.status,
            start_status=start,
            done_status=done,
        )

    return handle


def _handler(event: str, payload: dict[str, Any]) -> Handler:
    if event == "ping":
        return _fixed(Result(Status.PONG, "The webhook is set up; timetrack is listening."))
    if event == "issues":
        return _issues(payload)
    if event == "projects_v2_item":
        return _projects_v2_item(payload)
    if not event:
        return _fixed(github.ignored("No X-GitHub-Event header, so there is nothing to do."))
    return _fixed(github.ignored(f"The {event} event does not change any timer."))


def _answer(result: Result) -> dict[str, Any]:
    body: dict[str, Any] = {"status": str(result.status), "detail": result.detail}
    if result.many:
        body["session_ids"] = result.session_ids
        body["results"] = [
            {"login": o.login, "status": str(o.status)}
            | ({"session_id": o.session_id} if o.session_id is not None else {})
            for o in result.outcomes
        ]
    elif result.session_ids:
        body["session_id"] = result.session_ids[0]
    offers = result.offers
    if offers and result.issue is not None:
        if DiscordClient.from_settings().can_send_dms:
            body["detail"] += " A Switch button was offered by DM."
        body["switch"] = offer_record(result.issue, [o.login for o in offers])
    return body


def _duplicate(delivery: str, previous: dict[str, Any]) -> JSONResponse:
    body: dict[str, Any] = {
        "status": str(Status.DUPLICATE),
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


async def _reject(db: AsyncSession, delivery: str, detail: str) -> JSONResponse:
    """400 for a signed but malformed delivery, counted as a failed delivery by health."""
    body = {"error": "bad_request", "detail": detail}
    await github.remember(db, delivery, body, status_code=400, succeeded=False)
    await db.commit()
    return JSONResponse(body, status_code=400)


def _validation_detail(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"The payload is malformed at {where or 'its top level'}: {first.get('msg')}."


@router.post("/api/github/webhook", summary="Receive a GitHub webhook delivery")
@router.post("/api/github-timer-webhook/", summary="The same, at the seed's path")
@router.post("/api/github-timer-webhook", include_in_schema=False)
async def receive_delivery(
    request: Request,
    body: Annotated[bytes, Depends(verified_github_body)],
    db: Annotated[AsyncSession, Depends(get_db, scope="function")],
) -> JSONResponse:
    event = request.headers.get("x-github-event", "").strip()
    delivery = _delivery_id(request)
    try:
        payload = json.loads(body)
    except ValueError:
        return await _reject(db, delivery, "The body is not JSON.")
    if not isinstance(payload, dict):
        return await _reject(db, delivery, "The body is not a JSON object.")
    try:
        handle = _handler(event, payload)
    except BadRequest as error:
        return await _reject(db, delivery, error.detail)
    except ValidationError as error:
        return await _reject(db, delivery, _validation_detail(error))

    previous = await github.previous_answer(db, delivery)
    if previous is not None:
        return _duplicate(delivery, previous)
    try:
        result = await handle(db)
    except LookupFailed as error:
        # GitHub never retries a failed delivery by itself. A 502 shows red in the hook's
        # "Recent Deliveries", so whoever watches it sees the failure and can press
        # Redeliver; a 200 would hide it. The failure is recorded (health counts it) but not
        # treated as handled, so the redelivery, which keeps its delivery id, runs again.
        failure = {"error": "bad_gateway", "detail": f"{error} Nothing changed."}
        await github.remember(db, delivery, failure, status_code=502, succeeded=False)
        await db.commit()
        return JSONResponse(failure, status_code=502)

    answer = _answer(result)
    if not await github.remember(db, delivery, answer):
        # A twin of this delivery committed first: undo our work and answer as it did.
        await db.rollback()
        previous = await github.previous_answer(db, delivery)
        return _duplicate(delivery, previous or {})
    offer_ref = await github.delivery_ref(db, delivery) if result.offers else None
    await db.commit()
    logger.info("github %s.%s: %s", event, payload.get("action") or "-", result.status)
    await notify.announce(result, offer_ref)
    return JSONResponse(answer)
