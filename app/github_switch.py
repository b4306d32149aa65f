"""The Switch button of a GitHub DM: leave what you track for the issue you were assigned.

An assignment that arrives while its assignee tracks something else changes nothing; its
delivery's stored answer (`processed_events.response["switch"]`) keeps the issue and the
logins it was offered to. The button's `custom_id` is `switch:<row id>`: a short integer
(well inside Discord's 100 characters, whatever the repository's name), which names
nothing private, and which stops working when the offer expires or the row is pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, events
from app import session as sessions
from app.clock import clock
from app.errors import Forbidden, NotFound
from app.github import IssueRef, Status, start_on_issue
from app.models import Session, SessionStatus, StopReason
from app.repositories.events import ProcessedEventRepository

# A Switch button older than this no longer starts anything: the assignment it offered is
# probably no longer what the user is working on. Deliveries are pruned after 7 days anyway.
SWITCH_OFFER_LIFETIME = timedelta(hours=24)
SWITCH_OFFER_EXPIRED = (
    "This switch offer has expired. Start the session yourself with /session in if you still "
    "want it."
)


def offer_record(issue: IssueRef, logins: Sequence[str]) -> dict[str, Any]:
    """What a delivery's stored answer keeps so that its Switch button can act later."""
    return {
        "repo": issue.repo,
        "number": issue.number,
        "url": issue.url,
        "title": issue.title,
        "logins": list(logins),
    }


def _offer_from(response: dict[str, Any]) -> tuple[IssueRef, list[str]] | None:
    offer = response.get("switch")
    if not isinstance(offer, dict):
        return None
    try:
        issue = IssueRef(
            repo=str(offer["repo"]),
            number=int(offer["number"]),
            url=str(offer["url"]),
            title=str(offer.get("title") or ""),
        )
        logins = [str(login) for login in offer["logins"]]
    except (KeyError, TypeError, ValueError):
        return None
    return issue, logins


@dataclass(frozen=True)
class Switched:
    """The session now tracked; `stopped` is the one left for it, `change` says what the
    click did (started, resumed, or noop when the issue was tracked already)."""

    session: Session
    stopped: Session | None
    change: Status
    issue: IssueRef


async def switch_to_offer(db: AsyncSession, user_id: str, offer_ref: int) -> Switched:
    """Clock out of the active session and into the offered issue, in the caller's transaction.

    `offer_ref` is the processed-events row of the delivery that made the offer; only a
    user whose linked login the offer named may take it.
    """
    row = await ProcessedEventRepository(db).get(offer_ref)
    fresh = row is not None and row.created_at >= clock.now() - SWITCH_OFFER_LIFETIME
    parsed = None
    if row is not None and fresh and row.kind == events.GITHUB_DELIVERY:
        parsed = _offer_from(row.response)
    if parsed is None:
        raise NotFound(SWITCH_OFFER_EXPIRED)
    issue, logins = parsed
    user = await accounts.ensure_user(db, user_id)
    if user.github_login is None or user.github_login.lower() not in {x.lower() for x in logins}:
        raise Forbidden("This switch offer was sent to someone else.")
    active = await sessions.current(db, user_id)
    if active is not None and issue.is_tracked_by(active):
        if active.status == SessionStatus.PAUSED:
            resumed = (await sessions.resume(db, user_id, active.id)).session
            return Switched(resumed, None, Status.RESUMED, issue)
        return Switched(active, None, Status.NOOP, issue)
    stopped = None
    if active is not None:
        stopped = await sessions.end_locked(db, active, StopReason.USER)
    started = await start_on_issue(db, user_id, issue)
    return Switched(started, stopped, Status.STARTED, issue)
