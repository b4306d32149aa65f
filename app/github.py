"""GitHub issue and project events -> session actions (DESIGN "GitHub").

The rules only. Callers verify and parse GitHub's JSON and hand over small typed values
(`IssueRef`, logins, a status name); what comes back says what happened, which sessions
were touched, and which owners to tell by DM once the transaction has committed.

Every mutation locks the owner's row first (through `accounts.ensure_user` and the
session functions). When one event touches several users, their rows are locked in
user-id order, so two events on the same issue can never deadlock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, events
from app import session as sessions
from app.models import Session, SessionSource, SessionStatus, StopReason, User
from app.repositories.events import ProcessedEventRepository
from app.repositories.sessions import SessionRepository
from app.session import GOAL_MAX_LENGTH, GithubIssue


class Status(enum.StrEnum):
    """The `status` of a webhook answer (CONTRACT "GitHub")."""

    PONG = "pong"
    STARTED = "started"
    RESUMED = "resumed"
    STOPPED = "stopped"
    NOOP = "noop"
    SKIPPED = "skipped"
    UNLINKED = "unlinked"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


# When one event touches several people, the answer names the most consequential outcome.
_PRIORITY = (
    Status.STARTED,
    Status.RESUMED,
    Status.STOPPED,
    Status.SKIPPED,
    Status.NOOP,
    Status.UNLINKED,
)


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class IssueRef:
    """The issue an event is about: enough to start a session on it and to find one."""

    repo: str
    number: int
    url: str
    title: str = ""

    @property
    def label(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def subject(self) -> str:
        # Repository names may exceed the 64 characters of a subject; the prefix is kept.
        return _trim(self.repo, accounts.SUBJECT_MAX_LENGTH)

    @property
    def goal(self) -> str:
        return _trim(f"#{self.number} {self.title}", GOAL_MAX_LENGTH)

    def as_github_issue(self) -> GithubIssue:
        return GithubIssue(repo=self.repo, number=self.number, url=self.url)

    def is_tracked_by(self, session: Session) -> bool:
        return session.github_repo == self.repo and session.github_issue_number == self.number


@dataclass(frozen=True)
class Announcement:
    """A session GitHub changed (`change`: started, resumed or stopped), to show its owner
    by DM after the commit. The session's `stop_reason` says why it stopped."""

    user_id: str
    session: Session
    change: Status
    issue: IssueRef


@dataclass(frozen=True)
class SwitchOffer:
    """An assignment that arrived while its assignee was tracking something else."""

    user_id: str
    login: str
    issue: IssueRef
    tracking: Session


@dataclass(frozen=True)
class UserOutcome:
    login: str
    status: Status
    detail: str
    session_id: int | None = None
    announcement: Announcement | None = None
    offer: SwitchOffer | None = None


@dataclass(frozen=True)
class Result:
    """What an event did. `many` marks events that may touch several users' sessions."""

    status: Status
    detail: str
    outcomes: tuple[UserOutcome, ...] = ()
    many: bool = False
    issue: IssueRef | None = None

    @property
    def session_ids(self) -> list[int]:
        return [o.session_id for o in self.outcomes if o.session_id is not None]

    @property
    def announcements(self) -> list[Announcement]:
        return [o.announcement for o in self.outcomes if o.announcement is not None]

    @property
    def offers(self) -> list[SwitchOffer]:
        return [o.offer for o in self.outcomes if o.offer is not None]


def ignored(detail: str) -> Result:
    return Result(Status.IGNORED, detail)


def skipped(detail: str) -> Result:
    return Result(Status.SKIPPED, detail)


def _single(outcome: UserOutcome, issue: IssueRef) -> Result:
    return Result(outcome.status, outcome.detail, (outcome,), issue=issue)


def _combined(outcomes: Sequence[UserOutcome], unlinked: Sequence[str], issue: IssueRef) -> Result:
    status = min((o.status for o in outcomes), key=_PRIORITY.index)
    detail = " ".join(o.detail for o in outcomes)
    if unlinked:
        detail += f" Not linked to timetrack: {', '.join(unlinked)}."
    return Result(status, detail, tuple(outcomes), many=True, issue=issue)


def _unlinked(logins: Iterable[str]) -> str:
    names = ", ".join(logins)
    return f"GitHub user {names} is not linked to a timetrack account; nothing changed."


async def start_on_issue(db: AsyncSession, user_id: str, issue: IssueRef) -> Session:
    """Clock in on the issue: the repository is the subject, `#N title` the goal."""
    return await sessions.clock_in(
        db,
        user_id,
        issue.subject,
        issue.goal,
        source=SessionSource.GITHUB,
        issue=issue.as_github_issue(),
    )


async def _start_for(db: AsyncSession, user_id: str, issue: IssueRef) -> UserOutcome:
    login = (await accounts.ensure_user(db, user_id)).github_login or ""
    active = await sessions.current(db, user_id)
    if active is None:
        started = await start_on_issue(db, user_id, issue)
        return UserOutcome(
            login,
            Status.STARTED,
            f"Started session {started.id} for {login} on {issue.label}.",
            started.id,
            Announcement(user_id, started, Status.STARTED, issue),
        )
    if issue.is_tracked_by(active):
        if active.status == SessionStatus.PAUSED:
            resumed = (await sessions.resume(db, user_id, active.id)).session
            return UserOutcome(
                login,
                Status.RESUMED,
                f"Resumed session {resumed.id} of {login} on {issue.label}.",
                resumed.id,
                Announcement(user_id, resumed, Status.RESUMED, issue),
            )
        return UserOutcome(
            login,
            Status.NOOP,
            f"{login} is already tracking {issue.label} (session {active.id}).",
            active.id,
        )
    return UserOutcome(
        login,
        Status.SKIPPED,
        f"{login} is tracking another session, which was left running.",
        offer=SwitchOffer(user_id, login, issue, active),
    )


async def _stop_for(
    db: AsyncSession, user_id: str, issue: IssueRef, reason: StopReason
) -> UserOutcome | None:
    """Clock the user out if what they track is this issue; None when it is not."""
    login = (await accounts.ensure_user(db, user_id)).github_login or ""
    active = await sessions.current(db, user_id)
    if active is None or not issue.is_tracked_by(active):
        return None
    ended = await sessions.end_locked(db, active, reason)
    who = f" {login}" if login else ""
    return UserOutcome(
        login,
        Status.STOPPED,
        f"Clocked{who} out of session {ended.id} on {issue.label}.",
        ended.id,
        Announcement(user_id, ended, Status.STOPPED, issue),
    )


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
    return [users[key] for key in sorted(users)], unlinked


async def issue_assigned(db: AsyncSession, issue: IssueRef, login: str) -> Result:
    """Start (or resume) the assignee's session on the issue, or offer a switch."""
    user = await accounts.user_for_github_login(db, login)
    if user is None:
        return Result(Status.UNLINKED, _unlinked([login]), issue=issue)
    return _single(await _start_for(db, user.id, issue), issue)


async def issue_unassigned(db: AsyncSession, issue: IssueRef, login: str) -> Result:
    """Clock the unassigned user out, if what they are tracking is this issue."""
    user = await accounts.user_for_github_login(db, login)
    if user is None:
        return Result(Status.UNLINKED, _unlinked([login]), issue=issue)
    outcome = await _stop_for(db, user.id, issue, StopReason.UNASSIGNED)
    if outcome is None:
        return Result(Status.NOOP, f"{login} is not tracking {issue.label}.", issue=issue)
    return _single(outcome, issue)


async def issue_closed(db: AsyncSession, issue: IssueRef) -> Result:
    """Clock out every active session on the issue, whoever owns it."""
    tracking = await SessionRepository(db).active_on_issue(issue.repo, issue.number)
    outcomes: list[UserOutcome] = []
    for user_id in sorted({s.user_id for s in tracking}):
        # The session may have ended between the read and the lock; _stop_for re-reads.
        outcome = await _stop_for(db, user_id, issue, StopReason.ISSUE_CLOSED)
        if outcome is not None:
            outcomes.append(outcome)
    if not outcomes:
        return Result(Status.NOOP, f"Nobody is tracking {issue.label}.", many=True, issue=issue)
    count = "1 session" if len(outcomes) == 1 else f"{len(outcomes)} sessions"
    return Result(
        Status.STOPPED,
        f"{issue.label} was closed: clocked out {count}.",
        tuple(outcomes),
        many=True,
        issue=issue,
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
    wanted = (status or "").strip().casefold()
    if wanted == start_status.strip().casefold():
        starting = True
    elif wanted == done_status.strip().casefold():
        starting = False
    else:
        return ignored(
            f"{issue.label} moved to {status or 'no status'!s}, which is neither "
            f"{start_status!r} nor {done_status!r}."
        )
    if not assignees:
        return ignored(f"{issue.label} has no assignees.")
    users, unlinked = await _linked_users(db, assignees)
    if not users:
        return Result(Status.UNLINKED, _unlinked(unlinked), issue=issue)
    outcomes: list[UserOutcome] = []
    for user in users:
        if starting:
            outcomes.append(await _start_for(db, user.id, issue))
            continue
        login = user.github_login or ""
        stopped = await _stop_for(db, user.id, issue, StopReason.PROJECT_DONE)
        outcomes.append(
            stopped or UserOutcome(login, Status.NOOP, f"{login} is not tracking {issue.label}.")
        )
    return _combined(outcomes, unlinked, issue)


# --- Deliveries: each GitHub delivery is applied once (app.events) ---------------------


async def previous_answer(db: AsyncSession, delivery_id: str) -> dict[str, Any] | None:
    """The answer already given to this delivery, if it was handled.

    A delivery that failed on our side (a 5xx, such as a GitHub API outage during a project
    look-up) is forgotten instead, so that GitHub's "Redeliver" (same delivery id) runs it.
    """
    if await ProcessedEventRepository(db).forget_failed(events.GITHUB_DELIVERY, delivery_id):
        return None
    found = await events.find(db, events.GITHUB_DELIVERY, delivery_id)
    return dict(found.response) if found is not None else None


async def remember(
    db: AsyncSession,
    delivery_id: str,
    response: dict[str, Any],
    *,
    status_code: int = 200,
    succeeded: bool = True,
) -> bool:
    """Record the answer in the caller's transaction; False if a twin delivery won the race."""
    return await events.record(
        db,
        events.GITHUB_DELIVERY,
        delivery_id,
        response,
        status_code=status_code,
        succeeded=succeeded,
    )


async def delivery_ref(db: AsyncSession, delivery_id: str) -> int | None:
    """The short, stable reference of a recorded delivery: its row id (for Switch buttons)."""
    found = await events.find(db, events.GITHUB_DELIVERY, delivery_id)
    return found.id if found is not None else None
