from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import contains_eager

from app.db import execute, fetch_one
from app.models import LONG_SPAN, Session, SessionStatus, Subject, long_span_predicate
from app.repositories.base import Repository, loaded


def spans_meeting(user_id: Any, start: Any, end: Any, now: Any) -> list[ColumnElement[bool]]:
    """Conditions for the sessions whose span [started_at, ended_at or now) meets
    [start, end), in a form the indexes serve whatever the length of the history.

    Most sessions are short, so those that meet the range started at most LONG_SPAN before
    it: a range scan of (user_id, started_at). The rest, active or long, are few, and the
    partial index `ix_sessions_long_spans` holds exactly them.
    """
    return [
        Session.user_id == user_id,
        Session.started_at < end,
        # A session of no length meets the range it starts in.
        or_(func.coalesce(Session.ended_at, now) > start, Session.started_at >= start),
        or_(Session.started_at >= start - LONG_SPAN, long_span_predicate()),
    ]


@dataclass(frozen=True)
class SessionFilter:
    status: SessionStatus | None = None
    subject: str | None = None
    active: bool | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None


# Active means RUNNING or PAUSED, which a CHECK constraint ties to `ended_at IS NULL`. The
# partial indexes say `ended_at IS NULL` so that status changes leave them alone (pausing
# and resuming are then HOT updates), and queries must say the same to use them.
ACTIVE = Session.ended_at.is_(None)


def _with_subject() -> Any:
    return (
        select(Session)
        .join(Session.subject)
        .options(contains_eager(Session.subject))
        .execution_options(populate_existing=True)
    )


# The reads and writes behind every interaction are plain statements (see app.db.execute).
# The columns they return, first and in this order; then the subject's name.
SESSION_COLUMNS = (
    "id",
    "subject_id",
    "user_id",
    "started_at",
    "ended_at",
    "goal",
    "note",
    "status",
    "total_paused_seconds",
    "pause_started_at",
    "effective_override_seconds",
    "source",
    "stop_reason",
    "github_repo",
    "github_issue_number",
    "github_issue_url",
    "remind_at",
    "created_at",
    "updated_at",
)
_SESSION_WITH_SUBJECT = f"""
SELECT {", ".join(f"s.{column}" for column in SESSION_COLUMNS)}, subjects.name
FROM sessions AS s JOIN subjects ON subjects.id = s.subject_id
"""  # noqa: S608 - column names only
CLEAR_REMINDERS = "UPDATE sessions SET remind_at = NULL WHERE id = ANY(%s)"
SESSION_BY_ID = _SESSION_WITH_SUBJECT + "WHERE s.id = %s"
ACTIVE_SESSION = _SESSION_WITH_SUBJECT + "WHERE s.user_id = %s AND s.ended_at IS NULL"
DELETE_SESSION = "DELETE FROM sessions WHERE id = %s"


@cache
def _insert_unless_active(columns: tuple[str, ...]) -> str:
    """The INSERT of a session with these columns, unless its user has an active one."""
    assert set(columns) <= set(SESSION_COLUMNS)
    names = ", ".join(columns)
    values = ", ".join(f"%({name})s" for name in columns)
    return (
        f"INSERT INTO sessions ({names}) SELECT {values} "  # noqa: S608 - names are the table's
        "WHERE NOT EXISTS (SELECT FROM sessions WHERE user_id = %(user_id)s AND ended_at IS NULL) "
        f"RETURNING {', '.join(SESSION_COLUMNS)}"
    )


@cache
def _update(columns: tuple[str, ...]) -> str:
    """The UPDATE of these columns of one session."""
    assert set(columns) <= set(SESSION_COLUMNS)
    assignments = ", ".join(f"{name} = %({name})s" for name in columns)
    return f"UPDATE sessions SET {assignments} WHERE id = %(id)s"  # noqa: S608 - as above


def _loaded(row: Any, subject: Subject | None = None) -> Session:
    session = loaded(Session, SESSION_COLUMNS, row)
    if subject is None:
        subject = loaded(Subject, ("id", "user_id", "name"), (row[1], row[2], row[-1]))
    session.__dict__["subject"] = subject
    return session


class SessionRepository(Repository):
    async def get(self, session_id: int) -> Session | None:
        row = await fetch_one(self.db, SESSION_BY_ID, (session_id,))
        return None if row is None else _loaded(row)

    async def active_for(self, user_id: str) -> Session | None:
        row = await fetch_one(self.db, ACTIVE_SESSION, (user_id,))
        return None if row is None else _loaded(row)

    async def insert_if_none_active(
        self, subject: Subject, values: dict[str, Any]
    ) -> Session | None:
        """Insert a session unless its user already has an active one; one statement.

        The caller holds the user's row lock, so the check cannot race; the partial unique
        index stays the backstop should a caller ever forget the lock.
        """
        row = await fetch_one(self.db, _insert_unless_active(tuple(values)), values)
        return None if row is None else _loaded(row, subject)

    async def add_ended(self, subject: Subject, values: dict[str, Any]) -> Session:
        """Insert a session that has already ended (time added by hand)."""
        session = Session(**values)
        self.db.add(session)
        await self.db.flush()
        session.subject = subject
        return session

    async def first_overlapping(
        self,
        user_id: str,
        start: datetime,
        end: datetime,
        now: datetime,
        *,
        excluding: int | None = None,
    ) -> Session | None:
        """The user's earliest session whose span meets [start, end); an active session
        runs until `now`."""
        statement = (
            _with_subject()
            .where(*spans_meeting(user_id, start, end, now))
            .order_by(Session.started_at, Session.id)
            .limit(1)
        )
        if excluding is not None:
            statement = statement.where(Session.id != excluding)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def save(self, session: Session, **changes: Any) -> Session:
        """Write the changed columns with one UPDATE; the session shows them as stored."""
        columns = tuple(sorted(changes))
        await execute(self.db, _update(columns), {**changes, "id": session.id})
        self.committed(session, **changes)
        return session

    async def delete(self, session: Session) -> None:
        await execute(self.db, DELETE_SESSION, (session.id,))

    def _filtered(self, user_id: str, where: SessionFilter) -> Any:
        statement = _with_subject().where(Session.user_id == user_id)
        if where.status is not None:
            statement = statement.where(Session.status == where.status)
        if where.active is not None:
            statement = statement.where(ACTIVE if where.active else ~ACTIVE)
        if where.subject is not None:
            statement = statement.where(func.lower(Subject.name) == where.subject.lower())
        if where.started_from is not None:
            statement = statement.where(Session.started_at >= where.started_from)
        if where.started_before is not None:
            statement = statement.where(Session.started_at < where.started_before)
        return statement

    async def page(
        self, user_id: str, where: SessionFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[Session], int]:
        statement = self._filtered(user_id, where)
        count = await self.db.scalar(statement.with_only_columns(func.count()).order_by(None))
        rows = (
            (
                await self.db.execute(
                    statement.order_by(Session.started_at.desc(), Session.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )
            .scalars()
            .all()
        )
        return rows, int(count or 0)

    async def all_matching(self, user_id: str, where: SessionFilter) -> Sequence[Session]:
        statement = self._filtered(user_id, where).order_by(Session.started_at, Session.id)
        return (await self.db.execute(statement)).scalars().all()

    async def active_on_issue(self, repo: str, number: int) -> Sequence[Session]:
        statement = _with_subject().where(
            Session.github_repo == repo,
            Session.github_issue_number == number,
            ACTIVE,
        )
        return (await self.db.execute(statement)).scalars().all()

    async def reminder_owners_due(self, now: datetime, limit: int) -> list[str]:
        """Owners of the active sessions whose reminder is due, the longest-waiting first:
        a range scan of the partial index `ix_sessions_remind_at`."""
        statement = (
            select(Session.user_id)
            .where(
                # As the partial index spells it, so the planner uses it.
                ACTIVE,
                Session.remind_at.is_not(None),
                Session.remind_at <= now,
            )
            .order_by(Session.remind_at)
            .limit(limit)
        )
        return list((await self.db.execute(statement)).scalars())

    async def active_for_users(self, user_ids: Sequence[str]) -> Sequence[Session]:
        statement = (
            _with_subject()
            .where(Session.user_id.in_(user_ids), ACTIVE)
            .order_by(Session.remind_at, Session.id)
        )
        return (await self.db.execute(statement)).scalars().all()

    async def clear_reminders(self, sessions: Sequence[Session]) -> None:
        """Mark the sessions reminded, with one UPDATE."""
        if not sessions:
            return
        await execute(self.db, CLEAR_REMINDERS, ([session.id for session in sessions],))
        for session in sessions:
            self.committed(session, remind_at=None)

    async def count_with_status(
        self, user_ids: Sequence[str], status: SessionStatus
    ) -> dict[str, int]:
        """How many sessions each user has in `status`; users with none are left out."""
        statement = (
            select(Session.user_id, func.count())
            .where(Session.user_id.in_(user_ids), Session.status == status)
            .group_by(Session.user_id)
        )
        return {user_id: int(count) for user_id, count in await self.db.execute(statement)}

    async def with_status_after(
        self, user_id: str, status: SessionStatus, after_id: int, limit: int
    ) -> Sequence[Session]:
        """A page of the user's sessions in `status`, oldest first, after session `after_id`
        (a key that stays put when sessions before it change status)."""
        statement = (
            _with_subject()
            .where(Session.user_id == user_id, Session.status == status, Session.id > after_id)
            .order_by(Session.id)
            .limit(limit)
        )
        return (await self.db.execute(statement)).scalars().all()

    async def started_before(self, cutoff: datetime) -> Sequence[Session]:
        """Active sessions that started before `cutoff`, oldest first."""
        statement = (
            _with_subject().where(ACTIVE, Session.started_at < cutoff).order_by(Session.started_at)
        )
        return (await self.db.execute(statement)).scalars().all()
