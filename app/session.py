"""The Session handler: the focus-session state machine (seed 000 §5, DESIGN "Domain").

Every operation locks the acting user's row first, so two clicks or two devices
serialise; the partial unique index on active sessions is the backstop. An action whose
target state already holds changes nothing and says so in `Outcome.notice`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.clock import clock
from app.durations import MAX_DURATION_SECONDS, format_duration, parse_duration
from app.errors import Conflict, InvalidInput, NotFound, NotOwner
from app.models import ACTIVE_STATUSES, Session, SessionSource, SessionStatus, StopReason
from app.repositories.sessions import SessionRepository
from app.text import storable

GOAL_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000

ENDED = (SessionStatus.ENDED_UNCONFIRMED, SessionStatus.ENDED_CONFIRMED)


@dataclass(frozen=True)
class Outcome:
    """A session after an action, and a notice when the action found it already done."""

    session: Session
    notice: str | None = None

    @property
    def already(self) -> bool:
        return self.notice is not None


@dataclass(frozen=True)
class GithubIssue:
    repo: str
    number: int
    url: str


# An issue's address as people paste it (a trailing `#issuecomment-…` is fine). Nine digits
# at most keeps the number inside the integer column.
_ISSUE_URL = re.compile(
    r"https://(?:www\.)?github\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})"
    r"/issues/([0-9]{1,9})/?(?:[?#][^\s]*)?",
    re.ASCII,
)


def github_issue_from_url(url: str) -> GithubIssue:
    """The issue that `https://github.com/owner/repo/issues/12` points at, in canonical form."""
    match = _ISSUE_URL.fullmatch(url.strip())
    if match is None or int(match[3]) == 0:
        raise InvalidInput(
            "That is not a GitHub issue URL; it looks like https://github.com/owner/repo/issues/12."
        )
    owner, repo, number = match[1], match[2], int(match[3])
    return GithubIssue(
        repo=f"{owner}/{repo}",
        number=number,
        url=f"https://github.com/{owner}/{repo}/issues/{number}",
    )


def _clean_goal(goal: str | None) -> str | None:
    goal = " ".join(storable(goal or "", "purpose").split())
    if len(goal) > GOAL_MAX_LENGTH:
        raise InvalidInput(f"A purpose is at most {GOAL_MAX_LENGTH} characters.")
    return goal or None


def _describe(session: Session) -> str:
    return f"{session.subject.name} (session {session.id})"


async def _owned(db: AsyncSession, user_id: str, session_id: int, username: str | None) -> Session:
    await accounts.ensure_user(db, user_id, username)
    session = await SessionRepository(db).get(session_id)
    if session is None:
        raise NotFound("No session with that id.")
    if session.user_id != user_id:
        raise NotOwner()
    return session


async def current(db: AsyncSession, user_id: str) -> Session | None:
    return await SessionRepository(db).active_for(user_id)


async def recent(db: AsyncSession, user_id: str, limit: int = 10) -> Sequence[Session]:
    return await SessionRepository(db).recent(user_id, limit)


async def get(db: AsyncSession, user_id: str, session_id: int) -> Session:
    session = await SessionRepository(db).get(session_id)
    if session is None:
        raise NotFound("No session with that id.")
    if session.user_id != user_id:
        raise NotOwner()
    return session


async def clock_in(
    db: AsyncSession,
    user_id: str,
    subject: str,
    goal: str | None = None,
    *,
    source: SessionSource,
    username: str | None = None,
    issue: GithubIssue | None = None,
) -> Session:
    goal = _clean_goal(goal)
    await accounts.ensure_user(db, user_id, username)
    found = await accounts.find_or_create_subject(db, user_id, subject)
    now = clock.now()
    values: dict[str, Any] = {
        "user_id": user_id,
        "subject_id": found.id,
        "started_at": now,
        "goal": goal,
        "status": SessionStatus.RUNNING.value,
        "source": source.value,
        "created_at": now,
        "updated_at": now,
    }
    if issue is not None:
        values |= {
            "github_repo": issue.repo,
            "github_issue_number": issue.number,
            "github_issue_url": issue.url,
        }
    repository = SessionRepository(db)
    try:
        session = await repository.insert_if_none_active(found, values)
    except IntegrityError:
        # Reachable only if the user lock were bypassed: the unique index still says no,
        # and the failed transaction is rolled back by whoever owns it.
        raise Conflict("You are already tracking a session. Clock out of it first.") from None
    if session is None:
        active = await repository.active_for(user_id)
        what = _describe(active) if active is not None else "another session"
        raise Conflict(f"You are already tracking {what}. Clock out of it first.")
    return session


async def pause(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    return await _pause(db, await _owned(db, user_id, session_id, username))


async def pause_active(
    db: AsyncSession, user_id: str, *, username: str | None = None
) -> Outcome | None:
    """Pause whatever the user is tracking (`/session pause`); None when nothing is."""
    session = await locked_active(db, user_id, username)
    return None if session is None else await _pause(db, session)


async def locked_active(
    db: AsyncSession, user_id: str, username: str | None = None
) -> Session | None:
    """The user's active session, read under the user's row lock.

    Locking before reading makes the session acted on the one still active when we act.
    """
    await accounts.ensure_user(db, user_id, username)
    return await SessionRepository(db).active_for(user_id)


async def _pause(db: AsyncSession, session: Session) -> Outcome:
    if session.status == SessionStatus.PAUSED:
        return Outcome(session, "Already paused.")
    if session.status != SessionStatus.RUNNING:
        raise Conflict("This session has ended, so it can't be paused. Start a new one.")
    now = clock.now()
    await SessionRepository(db).save(
        session, status=SessionStatus.PAUSED, pause_started_at=now, updated_at=now
    )
    return Outcome(session)


def _accrued_pause(session: Session) -> int:
    if session.status != SessionStatus.PAUSED or session.pause_started_at is None:
        return session.total_paused_seconds
    gap = int((clock.now() - session.pause_started_at).total_seconds())
    return session.total_paused_seconds + max(0, gap)


async def resume(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    return await _resume(db, await _owned(db, user_id, session_id, username))


async def resume_active(
    db: AsyncSession, user_id: str, *, username: str | None = None
) -> Outcome | None:
    """Resume whatever the user is tracking (`/session resume`); None when nothing is."""
    session = await locked_active(db, user_id, username)
    return None if session is None else await _resume(db, session)


async def _resume(db: AsyncSession, session: Session) -> Outcome:
    if session.status == SessionStatus.RUNNING:
        return Outcome(session, "Already running.")
    if session.status != SessionStatus.PAUSED:
        raise Conflict(
            "This session has ended, so it can't be resumed. Reopen it or start a new one."
        )
    now = clock.now()
    await SessionRepository(db).save(
        session,
        status=SessionStatus.RUNNING,
        total_paused_seconds=_accrued_pause(session),
        pause_started_at=None,
        updated_at=now,
    )
    return Outcome(session)


async def clock_out(
    db: AsyncSession,
    user_id: str,
    session_id: int,
    purpose: str | None = None,
    *,
    reason: StopReason = StopReason.USER,
    username: str | None = None,
) -> Outcome:
    session = await _owned(db, user_id, session_id, username)
    if session.status in ENDED:
        return Outcome(session, "Already clocked out.")
    return Outcome(await _end(db, session, purpose, reason))


async def _end(
    db: AsyncSession, session: Session, purpose: str | None, reason: StopReason
) -> Session:
    now = clock.now()
    changes: dict[str, Any] = {
        "status": SessionStatus.ENDED_UNCONFIRMED,
        "total_paused_seconds": _accrued_pause(session),
        "pause_started_at": None,
        "ended_at": now,
        "stop_reason": reason,
        "updated_at": now,
    }
    purpose = _clean_goal(purpose)
    if purpose is not None:
        changes["goal"] = purpose
    return await SessionRepository(db).save(session, **changes)


async def clock_out_active(
    db: AsyncSession,
    user_id: str,
    purpose: str | None = None,
    *,
    reason: StopReason = StopReason.USER,
    username: str | None = None,
) -> Session:
    """Clock out of whatever the user is tracking (`/session out` names no session)."""
    session = await locked_active(db, user_id, username)
    if session is None:
        raise Conflict("You are not tracking anything. Start a session first.")
    return await _end(db, session, purpose, reason)


async def end_locked(db: AsyncSession, session: Session, reason: StopReason) -> Session:
    """End a session whose owner's row the caller has already locked (stale, GitHub)."""
    if session.status in ENDED:
        return session
    return await _end(db, session, None, reason)


def _override_seconds(value: str | int) -> int:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not 0 <= value <= MAX_DURATION_SECONDS:
        raise InvalidInput(
            f"Effective time must be between 0 and {format_duration(MAX_DURATION_SECONDS)}."
        )
    return value


async def adjust_time(
    db: AsyncSession,
    user_id: str,
    session_id: int,
    value: str | int,
    *,
    allow_confirmed: bool = False,
    username: str | None = None,
) -> Outcome:
    seconds = _override_seconds(value)
    session = await _owned(db, user_id, session_id, username)
    if session.status in ACTIVE_STATUSES:
        raise Conflict("Clock out first, then adjust the time.")
    if session.status == SessionStatus.ENDED_CONFIRMED and not allow_confirmed:
        raise Conflict("This session is confirmed. Correct it on the web page if you must.")
    if session.effective_override_seconds == seconds:
        return Outcome(session, f"Already set to {format_duration(seconds)}.")
    await SessionRepository(db).save(
        session, effective_override_seconds=seconds, updated_at=clock.now()
    )
    return Outcome(session)


async def edit_purpose(
    db: AsyncSession,
    user_id: str,
    session_id: int,
    goal: str | None,
    *,
    username: str | None = None,
) -> Outcome:
    cleaned = _clean_goal(goal)
    session = await _owned(db, user_id, session_id, username)
    if session.goal == cleaned:
        return Outcome(session, "The purpose is unchanged.")
    await SessionRepository(db).save(session, goal=cleaned, updated_at=clock.now())
    return Outcome(session)


async def edit_note(db: AsyncSession, user_id: str, session_id: int, note: str | None) -> Outcome:
    note = storable(note or "", "note").strip() or None
    if note is not None and len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"A note is at most {NOTE_MAX_LENGTH} characters.")
    session = await _owned(db, user_id, session_id, None)
    if session.note == note:
        return Outcome(session, "The note is unchanged.")
    await SessionRepository(db).save(session, note=note, updated_at=clock.now())
    return Outcome(session)


async def confirm(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    session = await _owned(db, user_id, session_id, username)
    if session.status == SessionStatus.ENDED_CONFIRMED:
        return Outcome(session, "Already confirmed.")
    if session.status in ACTIVE_STATUSES:
        raise Conflict("Clock out before confirming.")
    await SessionRepository(db).save(
        session, status=SessionStatus.ENDED_CONFIRMED, updated_at=clock.now()
    )
    return Outcome(session)


async def reopen(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    """Undo a clock-out. The time since it ended counts as paused, so work is not inflated."""
    session = await _owned(db, user_id, session_id, username)
    if session.status in ACTIVE_STATUSES:
        return Outcome(
            session,
            "Already running."
            if session.status == SessionStatus.RUNNING
            else "Already open, and paused.",
        )
    if session.status == SessionStatus.ENDED_CONFIRMED:
        raise Conflict("A confirmed session can't be reopened. Start a new one.")
    repository = SessionRepository(db)
    active = await repository.active_for(user_id)
    if active is not None:
        raise Conflict(
            f"You are tracking {_describe(active)}. Clock out of it before reopening this one."
        )
    assert session.ended_at is not None
    now = clock.now()
    gap = max(0, int((now - session.ended_at).total_seconds()))
    await repository.save(
        session,
        status=SessionStatus.RUNNING,
        total_paused_seconds=session.total_paused_seconds + gap,
        ended_at=None,
        effective_override_seconds=None,
        stop_reason=None,
        updated_at=now,
    )
    return Outcome(session)


async def delete(db: AsyncSession, user_id: str, session_id: int) -> None:
    session = await _owned(db, user_id, session_id, None)
    await SessionRepository(db).delete(session)
