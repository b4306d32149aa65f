from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.db import execute, fetch_one
from app.models import Session, SessionStatus, Subject
from app.repositories.base import Repository, loaded


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
    "created_at",
    "updated_at",
)
_SESSION_WITH_SUBJECT = """
SELECT s.id, s.subject_id, s.user_id, s.started_at, s.ended_at, s.goal, s.note, s.status,
    s.total_paused_seconds, s.pause_started_at, s.effective_override_seconds, s.source,
    s.stop_reason, s.github_repo, s.github_issue_number, s.github_issue_url, s.created_at,
    s.updated_at, subjects.name
FROM sessions AS s JOIN subjects ON subjects.id = s.subject_id
"""
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

    async def started_before(self, cutoff: datetime) -> Sequence[Session]:
        """Active sessions that started before `cutoff`, oldest first."""
        statement = (
            _with_subject().where(ACTIVE, Session.started_at < cutoff).order_by(Session.started_at)
        )
        return (await self.db.execute(statement)).scalars().all()
