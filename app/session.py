"""The focus-session state machine: clock in, pause, resume, clock out, and review.

| action | allowed from | effect |
|---|---|---|
| clock in | no active session | a new RUNNING session; a new subject is created |
| pause | RUNNING | PAUSED, `pause_started_at = now` |
| resume | PAUSED | the open pause is added to `total_paused_seconds`; RUNNING |
| clock out | RUNNING, PAUSED | an open pause is accrued; `ended_at = now`; ENDED_UNCONFIRMED |
| adjust time | ENDED_UNCONFIRMED (and ENDED_CONFIRMED from the page and REST) | the override |
| edit goal | any | the goal (empty clears it) |
| confirm | ENDED_UNCONFIRMED | ENDED_CONFIRMED |
| reopen | ENDED_UNCONFIRMED, if nothing else is active | RUNNING; the gap counts as paused |
| keep going | RUNNING, PAUSED | the next reminder, `remind_after_minutes` from now |

Every operation locks the acting user's row first, so two clicks or two devices
serialise; the partial unique index on active sessions is the backstop. An action whose
target state already holds changes nothing and says so in `Outcome.notice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, reminders
from app.clock import clock
from app.durations import MAX_DURATION_SECONDS, format_duration, parse_duration
from app.errors import Conflict, InvalidInput, NotFound, NotOwner
from app.issues import IssueRef
from app.limits import GOAL_MAX_LENGTH, NOTE_MAX_LENGTH
from app.models import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    Session,
    SessionSource,
    SessionStatus,
    StopReason,
    User,
)
from app.repositories.sessions import SessionRepository
from app.text import one_line, storable
from app.timing import paused_seconds


@dataclass(frozen=True)
class Outcome:
    """A session after an action, and a notice when the action found it already done."""

    session: Session
    notice: str | None = None

    @property
    def already(self) -> bool:
        return self.notice is not None


def clean_goal(goal: str | None) -> str | None:
    goal = one_line(storable(goal or "", "goal"))
    if len(goal) > GOAL_MAX_LENGTH:
        raise InvalidInput(f"A goal is at most {GOAL_MAX_LENGTH} characters.")
    return goal or None


def _describe(session: Session) -> str:
    return f"{session.subject.name} (session {session.id})"


async def get_locked(
    db: AsyncSession, user_id: str, session_id: int, username: str | None = None
) -> Session:
    """The user's session, read under the user's row lock, for an action on it."""
    await accounts.lock_user(db, user_id, username)
    return await get(db, user_id, session_id)


async def _owner_and_session(
    db: AsyncSession, user_id: str, session_id: int, username: str | None
) -> tuple[User, Session]:
    """The user, whose settings the action needs, and the session, read under the lock."""
    user = await accounts.ensure_user(db, user_id, username)
    return user, await get(db, user_id, session_id)


async def current(db: AsyncSession, user_id: str) -> Session | None:
    return await SessionRepository(db).active_for(user_id)


async def get(db: AsyncSession, user_id: str, session_id: int) -> Session:
    """The user's session; NotOwner (a 404 to REST) when it is someone else's."""
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
    issue: IssueRef | None = None,
) -> Session:
    goal = clean_goal(goal)
    # Read as well as locked: the INSERT sets `remind_at` from the user's setting.
    user = await accounts.ensure_user(db, user_id, username)
    found = await accounts.find_or_create_subject(db, user_id, subject)
    now = clock.now()
    values: dict[str, Any] = {
        "user_id": user_id,
        "subject_id": found.id,
        "started_at": now,
        "goal": goal,
        "status": SessionStatus.RUNNING.value,
        "source": source.value,
        "remind_at": reminders.after(now, user.remind_after_minutes),
        "created_at": now,
        "updated_at": now,
    }
    if issue is not None:
        values |= issue.columns()
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


async def clock_in_on_issue(db: AsyncSession, user_id: str, issue: IssueRef) -> Session:
    """Clock in on a GitHub issue: the repository is the subject, `#N title` the goal."""
    return await clock_in(
        db, user_id, issue.subject, issue.goal, source=SessionSource.GITHUB, issue=issue
    )


async def pause(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    return await _pause(db, await get_locked(db, user_id, session_id, username))


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
    await accounts.lock_user(db, user_id, username)
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


async def resume(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    return await _resume(db, await get_locked(db, user_id, session_id, username))


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
        total_paused_seconds=paused_seconds(session, now),
        pause_started_at=None,
        updated_at=now,
    )
    return Outcome(session)


async def clock_out(
    db: AsyncSession,
    user_id: str,
    session_id: int,
    goal: str | None = None,
    *,
    reason: StopReason = StopReason.USER,
    username: str | None = None,
) -> Outcome:
    session = await get_locked(db, user_id, session_id, username)
    if session.status in ENDED_STATUSES:
        return Outcome(session, "Already clocked out.")
    return Outcome(await _end(db, session, goal, reason))


async def _end(db: AsyncSession, session: Session, goal: str | None, reason: StopReason) -> Session:
    """End the session; a goal given at clock-out replaces the one it had."""
    now = clock.now()
    changes: dict[str, Any] = {
        "status": SessionStatus.ENDED_UNCONFIRMED,
        "total_paused_seconds": paused_seconds(session, now),
        "pause_started_at": None,
        "ended_at": now,
        "stop_reason": reason,
        "remind_at": None,
        "updated_at": now,
    }
    goal = clean_goal(goal)
    if goal is not None:
        changes["goal"] = goal
    return await SessionRepository(db).save(session, **changes)


async def clock_out_active(
    db: AsyncSession,
    user_id: str,
    goal: str | None = None,
    *,
    reason: StopReason = StopReason.USER,
    username: str | None = None,
) -> Session:
    """Clock out of whatever the user is tracking (`/session out` names no session)."""
    session = await locked_active(db, user_id, username)
    if session is None:
        raise Conflict("You are not tracking anything. Start a session first.")
    return await _end(db, session, goal, reason)


async def end_locked(db: AsyncSession, session: Session, reason: StopReason) -> Session:
    """End a session whose owner's row the caller has already locked (stale, GitHub)."""
    if session.status in ENDED_STATUSES:
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
    session = await get_locked(db, user_id, session_id, username)
    if session.status in ACTIVE_STATUSES:
        raise Conflict("Clock out first, then adjust the time.")
    # Time added by hand is confirmed as it is made; its author may still correct it anywhere.
    manual = session.source == SessionSource.MANUAL
    if session.status == SessionStatus.ENDED_CONFIRMED and not (allow_confirmed or manual):
        raise Conflict("This session is confirmed. Correct it on the web page if you must.")
    if session.effective_override_seconds == seconds:
        return Outcome(session, f"Already set to {format_duration(seconds)}.")
    await SessionRepository(db).save(
        session, effective_override_seconds=seconds, updated_at=clock.now()
    )
    return Outcome(session)


async def edit_goal(
    db: AsyncSession,
    user_id: str,
    session_id: int,
    goal: str | None,
    *,
    username: str | None = None,
) -> Outcome:
    cleaned = clean_goal(goal)
    session = await get_locked(db, user_id, session_id, username)
    if session.goal == cleaned:
        return Outcome(session, "The goal is unchanged.")
    await SessionRepository(db).save(session, goal=cleaned, updated_at=clock.now())
    return Outcome(session)


async def edit_note(db: AsyncSession, user_id: str, session_id: int, note: str | None) -> Outcome:
    note = storable(note or "", "note").strip() or None
    if note is not None and len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"A note is at most {NOTE_MAX_LENGTH} characters.")
    session = await get_locked(db, user_id, session_id, None)
    if session.note == note:
        return Outcome(session, "The note is unchanged.")
    await SessionRepository(db).save(session, note=note, updated_at=clock.now())
    return Outcome(session)


async def confirm(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Outcome:
    session = await get_locked(db, user_id, session_id, username)
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
    user, session = await _owner_and_session(db, user_id, session_id, username)
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
        remind_at=reminders.after(now, user.remind_after_minutes),
        updated_at=now,
    )
    return Outcome(session)


async def keep_going(
    db: AsyncSession, user_id: str, session_id: int, *, username: str | None = None
) -> Session:
    """The answer to a reminder: ask again `remind_after_minutes` from now. With reminders
    off since, nothing is scheduled."""
    user, session = await _owner_and_session(db, user_id, session_id, username)
    if session.status not in ACTIVE_STATUSES:
        raise Conflict("This session has ended, so there is nothing to keep going on.")
    now = clock.now()
    return await SessionRepository(db).save(
        session, remind_at=reminders.after(now, user.remind_after_minutes), updated_at=now
    )


async def delete(db: AsyncSession, user_id: str, session_id: int) -> None:
    session = await get_locked(db, user_id, session_id, None)
    await SessionRepository(db).delete(session)
