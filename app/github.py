"""What GitHub events do to sessions: the rules, as plain functions over plain values.

- assigned: start the assignee's session on the issue (or resume it); if they track
  something else, leave it alone and offer them a switch.
- unassigned: clock the user out if what they track is this issue.
- closed: clock out every active session on the issue, whoever owns it, and sum the time
  members of teams connected to its repository spent on it (`app.teams`).
- moved on a board: to the start column starts the assignees' sessions, to the done
  column clocks them out.
- switch: take an offer, clocking out of what was tracked and into the offered issue.

Callers verify and parse GitHub's JSON and hand over `IssueRef`s, logins and column names.
What comes back says what changed for whom, so the caller can answer and tell the owners
after the commit. Ended sessions are ENDED_UNCONFIRMED: their owners review them.

Every mutation locks the owner's row first; one event touching several users locks them
in `accounts.in_lock_order`, so two events on the same issue can never deadlock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app import session as sessions
from app.clock import clock
from app.errors import Forbidden, NotFound
from app.issues import IssueRef
from app.models import Session, SessionStatus, StopReason, SwitchOffer, User
from app.repositories.sessions import SessionRepository
from app.repositories.switch_offers import SwitchOfferRepository
from app.teams import IssueSummary, issue_summary


class Change(enum.StrEnum):
    """What an event did for one person (or, for the whole event, the weightiest of those)."""

    STARTED = "started"
    RESUMED = "resumed"
    STOPPED = "stopped"
    NOOP = "noop"
    SKIPPED = "skipped"
    UNLINKED = "unlinked"
    IGNORED = "ignored"


# When one event touches several people, the result names the most consequential change.
_WEIGHT = (
    Change.STARTED,
    Change.RESUMED,
    Change.STOPPED,
    Change.SKIPPED,
    Change.NOOP,
    Change.UNLINKED,
)

# A Switch button older than this no longer starts anything: the assignment it offered is
# probably no longer what its owner works on.
OFFER_LIFETIME = timedelta(hours=24)
OFFER_EXPIRED = (
    "This switch offer has expired. Start the session yourself with /session in if you still "
    "want it."
)


class Column(enum.Enum):
    START = "start"
    DONE = "done"


def board_column(status: str | None, *, start: str, done: str) -> Column | None:
    """Which of the two columns that matter a board status names (any case), if either."""
    wanted = (status or "").strip().casefold()
    if wanted == start.strip().casefold():
        return Column.START
    if wanted == done.strip().casefold():
        return Column.DONE
    return None


@dataclass(frozen=True)
class Offer:
    """A Switch offered to someone assigned an issue while tracking `tracking`."""

    offer: SwitchOffer
    issue: IssueRef
    tracking: Session


@dataclass(frozen=True)
class PersonOutcome:
    """What the event did for one linked user. `session` is the one it started, resumed,
    stopped or found already tracking the issue."""

    user_id: str
    login: str
    change: Change
    detail: str
    session: Session | None = None
    offer: Offer | None = None


@dataclass(frozen=True)
class Result:
    """What an event did. `many` marks events that may touch several users' sessions."""

    change: Change
    detail: str
    outcomes: tuple[PersonOutcome, ...] = ()
    many: bool = False
    issue: IssueRef | None = None
    # For a closed issue of a repository a team is connected to: who spent how long on it.
    summary: IssueSummary | None = None

    @property
    def session_ids(self) -> list[int]:
        return [o.session.id for o in self.outcomes if o.session is not None]

    @property
    def offers(self) -> list[Offer]:
        return [o.offer for o in self.outcomes if o.offer is not None]


def ignored(detail: str) -> Result:
    return Result(Change.IGNORED, detail)


def skipped(detail: str) -> Result:
    return Result(Change.SKIPPED, detail)


def _single(outcome: PersonOutcome, issue: IssueRef) -> Result:
    return Result(outcome.change, outcome.detail, (outcome,), issue=issue)


def _combined(
    outcomes: Sequence[PersonOutcome], unlinked: Sequence[str], issue: IssueRef
) -> Result:
    change = min((o.change for o in outcomes), key=_WEIGHT.index)
    detail = " ".join(o.detail for o in outcomes)
    if unlinked:
        detail += f" Not linked to timetrack: {', '.join(unlinked)}."
    return Result(change, detail, tuple(outcomes), many=True, issue=issue)


def _unlinked(logins: Iterable[str]) -> str:
    names = ", ".join(logins)
    return f"GitHub user {names} is not linked to a timetrack account; nothing changed."


async def _start_for(db: AsyncSession, user_id: str, issue: IssueRef) -> PersonOutcome:
    login = (await accounts.ensure_user(db, user_id)).github_login or ""
    active = await sessions.current(db, user_id)
    if active is None:
        started = await sessions.clock_in_on_issue(db, user_id, issue)
        detail = f"Started session {started.id} for {login} on {issue.label}."
        return PersonOutcome(user_id, login, Change.STARTED, detail, started)
    if issue.is_tracked_by(active):
        if active.status == SessionStatus.PAUSED:
            resumed = (await sessions.resume(db, user_id, active.id)).session
            detail = f"Resumed session {resumed.id} of {login} on {issue.label}."
            return PersonOutcome(user_id, login, Change.RESUMED, detail, resumed)
        detail = f"{login} is already tracking {issue.label} (session {active.id})."
        return PersonOutcome(user_id, login, Change.NOOP, detail, active)
    offer = await SwitchOfferRepository(db).add(user_id, issue, clock.now())
    return PersonOutcome(
        user_id,
        login,
        Change.SKIPPED,
        f"{login} is tracking another session, which was left running.",
        offer=Offer(offer, issue, active),
    )


async def _stop_for(
    db: AsyncSession, user_id: str, issue: IssueRef, reason: StopReason
) -> PersonOutcome | None:
    """Clock the user out if what they track is this issue; None when it is not."""
    login = (await accounts.ensure_user(db, user_id)).github_login or ""
    active = await sessions.current(db, user_id)
    if active is None or not issue.is_tracked_by(active):
        return None
    ended = await sessions.end_locked(db, active, reason)
    who = f" {login}" if login else ""
    detail = f"Clocked{who} out of session {ended.id} on {issue.label}."
    return PersonOutcome(user_id, login, Change.STOPPED, detail, ended)


async def _linked_users(db: AsyncSession, logins: Iterable[str]) -> tuple[list[User], list[str]]:
    """The users behind the logins (each once, in lock order) and the logins nobody linked."""
    users: dict[str, User] = {}
    unlinked: list[str] = []
    seen: set[str] = set()
    for login in logins:
        if login.lower() in seen:
            continue
        seen.add(login.lower())
        user = await accounts.user_for_github_login(db, login)
        if user is None:
            unlinked.append(login)
        else:
            users[user.id] = user
    return [users[user_id] for user_id in accounts.in_lock_order(users)], unlinked


async def issue_assigned(db: AsyncSession, issue: IssueRef, login: str) -> Result:
    """Start (or resume) the assignee's session on the issue, or offer a switch."""
    user = await accounts.user_for_github_login(db, login)
    if user is None:
        return Result(Change.UNLINKED, _unlinked([login]), issue=issue)
    return _single(await _start_for(db, user.id, issue), issue)


async def issue_unassigned(db: AsyncSession, issue: IssueRef, login: str) -> Result:
    """Clock the unassigned user out, if what they are tracking is this issue."""
    user = await accounts.user_for_github_login(db, login)
    if user is None:
        return Result(Change.UNLINKED, _unlinked([login]), issue=issue)
    outcome = await _stop_for(db, user.id, issue, StopReason.UNASSIGNED)
    if outcome is None:
        return Result(Change.NOOP, f"{login} is not tracking {issue.label}.", issue=issue)
    return _single(outcome, issue)


async def issue_closed(db: AsyncSession, issue: IssueRef) -> Result:
    """Clock out every active session on the issue, whoever owns it."""
    tracking = await SessionRepository(db).active_on_issue(issue.repo, issue.number)
    outcomes: list[PersonOutcome] = []
    for user_id in accounts.in_lock_order(s.user_id for s in tracking):
        # The session may have ended between the read and the lock; _stop_for re-reads.
        outcome = await _stop_for(db, user_id, issue, StopReason.ISSUE_CLOSED)
        if outcome is not None:
            outcomes.append(outcome)
    # After the clock-outs, so that the time just stopped counts.
    summary = await issue_summary(db, issue)
    if not outcomes:
        return Result(
            Change.NOOP,
            f"Nobody is tracking {issue.label}.",
            many=True,
            issue=issue,
            summary=summary,
        )
    count = "1 session" if len(outcomes) == 1 else f"{len(outcomes)} sessions"
    return Result(
        Change.STOPPED,
        f"{issue.label} was closed: clocked out {count}.",
        tuple(outcomes),
        many=True,
        issue=issue,
        summary=summary,
    )


async def project_item_moved(
    db: AsyncSession,
    issue: IssueRef,
    assignees: Sequence[str],
    status: str | None,
    *,
    start_status: str,
    done_status: str,
) -> Result:
    """A board move: the start column starts the assignees' sessions, done clocks them out."""
    column = board_column(status, start=start_status, done=done_status)
    if column is None:
        return ignored(
            f"{issue.label} moved to {status or 'no status'!s}, which is neither "
            f"{start_status!r} nor {done_status!r}."
        )
    if not assignees:
        return ignored(f"{issue.label} has no assignees.")
    users, unlinked = await _linked_users(db, assignees)
    if not users:
        return Result(Change.UNLINKED, _unlinked(unlinked), issue=issue)
    outcomes: list[PersonOutcome] = []
    for user in users:
        if column is Column.START:
            outcomes.append(await _start_for(db, user.id, issue))
            continue
        login = user.github_login or ""
        stopped = await _stop_for(db, user.id, issue, StopReason.PROJECT_DONE)
        outcomes.append(
            stopped
            or PersonOutcome(user.id, login, Change.NOOP, f"{login} is not tracking {issue.label}.")
        )
    return _combined(outcomes, unlinked, issue)


# --- Taking a switch offer --------------------------------------------------------------


@dataclass(frozen=True)
class Switched:
    """The session now tracked; `stopped` is the one left for it, `change` says what the
    switch did (started, resumed, or noop when the issue was tracked already)."""

    session: Session
    stopped: Session | None
    change: Change
    issue: IssueRef


def _offered_issue(offer: SwitchOffer) -> IssueRef:
    return IssueRef(
        repo=offer.github_repo,
        number=offer.github_issue_number,
        url=offer.github_issue_url,
        title=offer.issue_title,
    )


async def take_offer(db: AsyncSession, user_id: str, offer_id: int) -> Switched:
    """Clock out of the active session and into the offered issue, in one transaction."""
    offer = await SwitchOfferRepository(db).get(offer_id)
    if offer is None or offer.created_at < clock.now() - OFFER_LIFETIME:
        raise NotFound(OFFER_EXPIRED)
    if offer.user_id != user_id:
        raise Forbidden("This switch offer was sent to someone else.")
    issue = _offered_issue(offer)
    active = await sessions.locked_active(db, user_id)
    if active is not None and issue.is_tracked_by(active):
        if active.status == SessionStatus.PAUSED:
            resumed = (await sessions.resume(db, user_id, active.id)).session
            return Switched(resumed, None, Change.RESUMED, issue)
        return Switched(active, None, Change.NOOP, issue)
    stopped = None
    if active is not None:
        stopped = await sessions.end_locked(db, active, StopReason.USER)
    started = await sessions.clock_in_on_issue(db, user_id, issue)
    return Switched(started, stopped, Change.STARTED, issue)


async def prune_offers(db: AsyncSession) -> int:
    """Forget offers long past their lifetime."""
    return await SwitchOfferRepository(db).prune(clock.now() - OFFER_LIFETIME * 7)
