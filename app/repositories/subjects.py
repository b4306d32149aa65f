from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal_column, select, text, union_all
from sqlalchemy.dialects.postgresql import insert

from app.models import Session, Subject
from app.repositories.base import Repository


class SubjectRepository(Repository):
    async def find_or_create(self, user_id: str, name: str) -> Subject:
        """One statement: insert unless a subject of that name (in any case) exists; return it.

        The inserted row is invisible to a sibling query of the same statement, so the
        result is read from the insert's RETURNING or, failing that, from the table.
        """
        columns = (Subject.id, Subject.user_id, Subject.name, Subject.created_at)
        inserted = (
            insert(Subject)
            .values(user_id=user_id, name=name)
            .on_conflict_do_nothing(index_elements=[Subject.user_id, text("lower(name)")])
            .returning(*columns)
            .cte("inserted")
        )
        existing = select(*columns).where(
            Subject.user_id == user_id, func.lower(Subject.name) == name.lower()
        )
        statement = select(Subject).from_statement(union_all(select(inserted), existing).limit(1))
        subject: Subject = (await self.db.execute(statement)).scalar_one()
        return subject

    async def find(self, user_id: str, name: str) -> Subject | None:
        statement = select(Subject).where(
            Subject.user_id == user_id, func.lower(Subject.name) == name.lower()
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def recently_used(self, user_id: str, prefix: str = "", limit: int = 25) -> Sequence[str]:
        """Subject names, the most recently tracked first, then the rest by name."""
        last_used = (
            select(func.max(Session.started_at))
            .where(Session.subject_id == Subject.id)
            .correlate(Subject)
            .scalar_subquery()
        )
        statement = (
            select(Subject.name)
            .where(Subject.user_id == user_id)
            .order_by(last_used.desc().nulls_last(), func.lower(Subject.name))
            .limit(limit)
        )
        if prefix:
            statement = statement.where(
                func.strpos(func.lower(Subject.name), prefix.lower()) > literal_column("0")
            )
        return (await self.db.execute(statement)).scalars().all()
