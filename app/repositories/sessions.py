from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, insert, literal, or_, select
from sqlalchemy.orm import contains_eager

from app.models import (
    ACTIVE_STATUSES,
    LONG_SPAN,
    Session,
    SessionStatus,
    Subject,
    long_span_predicate,
)
from app.repositories.base import Repository


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


def _with_subject() -> Any:
    return (
        select(Session)
        .join(Session.subject)
        .options(contains_eager(Session.subject))
        .execution_options(populate_existing=True)
    )


# The two reads behind every interaction are built once, on first use: building them and
# deriving their cache keys cost more CPU than executing them. Values are bound per call.
@cache
def _by_id() -> Any:
    return _with_subject().where(Session.id == bindparam("wanted_id"))


@cache
def _active_for() -> Any:
    return _with_subject().where(
        Session.user_id == bindparam("owner_id"), Session.status.in_(ACTIVE_STATUSES)
    )


class SessionRepository(Repository):
    async def get(self, session_id: int) -> Session | None:
        result = await self.db.execute(_by_id(), {"wanted_id": session_id})
        return result.scalar_one_or_none()

    async def active_for(self, user_id: str) -> Session | None:
        result = await self.db.execute(_active_for(), {"owner_id": user_id})
        return result.scalar_one_or_none()

    async def insert_if_none_active(
        self, subject: Subject, values: dict[str, Any]
    ) -> Session | None:
        """Insert a session unless its user already has an active one; one statement.

        The caller holds the user's row lock, so the check cannot race; the partial unique
        index stays the backstop should a caller ever forget the lock.
        """
        user_id = values["user_id"]
        none_active = ~exists().where(
            Session.user_id == user_id, Session.status.in_(ACTIVE_STATUSES)
        )
        columns = list(values)
        table = Session.__table__
        source = select(*[literal(v, table.c[k].type) for k, v in values.items()])
        statement = (
            insert(Session).from_select(columns, source.where(none_active)).returning(Session)
        )
        session = (await self.db.execute(statement)).scalar_one_or_none()
        if session is not None:
            session.subject = subject
        return session

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
        """Write the changed columns with one UPDATE, keeping the loaded subject."""
        for name, value in changes.items():
            setattr(session, name, value)
        await self.db.flush()
        return session

    async def delete(self, session: Session) -> None:
        await self.db.delete(session)
        await self.db.flush()

    def _filtered(self, user_id: str, where: SessionFilter) -> Any:
        statement = _with_subject().where(Session.user_id == user_id)
        if where.status is not None:
            statement = statement.where(Session.status == where.status)
        if where.active is not None:
            active = Session.status.in_(ACTIVE_STATUSES)
            statement = statement.where(active if where.active else ~active)
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
            Session.status.in_(ACTIVE_STATUSES),
        )
        return (await self.db.execute(statement)).scalars().all()

    async def reminder_owners_due(self, now: datetime, limit: int) -> list[str]:
        """Owners of the active sessions whose reminder is due, the longest-waiting first:
        a range scan of the partial index `ix_sessions_remind_at`."""
        statement = (
            select(Session.user_id)
            .where(
                Session.status.in_(ACTIVE_STATUSES),
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
            .where(Session.user_id.in_(user_ids), Session.status.in_(ACTIVE_STATUSES))
            .order_by(Session.remind_at, Session.id)
        )
        return (await self.db.execute(statement)).scalars().all()

    async def clear_reminders(self, sessions: Sequence[Session]) -> None:
        """Mark the sessions reminded; the ORM sends the UPDATEs as one batch."""
        for session in sessions:
            session.remind_at = None
        await self.db.flush()

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
            _with_subject()
            .where(Session.status.in_(ACTIVE_STATUSES), Session.started_at < cutoff)
            .order_by(Session.started_at)
        )
        return (await self.db.execute(statement)).scalars().all()
