from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert

from app.models import User, summary_due_column
from app.repositories.base import Repository


@cache
def _upsert_locked() -> Any:
    """Every mutation runs this first, so it is built once, on first use: building it and
    deriving its cache key cost more CPU than executing it. Values are bound per call. Run
    as a SELECT from the statement, because an ORM INSERT given parameters takes the bulk
    path, which rebuilds the statement (and its cache key) on every call."""
    new_user = insert(User).values(
        id=bindparam("user_id"), username=bindparam("username"), timezone=bindparam("timezone")
    )
    upsert = new_user.on_conflict_do_update(
        index_elements=[User.id],
        set_={"username": func.coalesce(new_user.excluded.username, User.username)},
    )
    return (
        select(User)
        .from_statement(upsert.returning(*User.__table__.c))
        .execution_options(populate_existing=True)
    )


class UserRepository(Repository):
    async def get(self, user_id: str) -> User | None:
        return await self.db.get(User, user_id)

    async def upsert_locked(self, user_id: str, username: str | None, timezone: str) -> User:
        """Create the user if new, refresh the username, and hold the row lock: one statement.

        `ON CONFLICT DO UPDATE` locks the conflicting row for the rest of the transaction,
        exactly as `SELECT ... FOR UPDATE` would.
        """
        parameters = {"user_id": user_id, "username": username, "timezone": timezone}
        user: User = (await self.db.execute(_upsert_locked(), parameters)).scalar_one()
        return user

    async def by_github_login(self, login: str) -> User | None:
        statement = select(User).where(func.lower(User.github_login) == login.lower())
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def lock(self, user_ids: Sequence[str]) -> Sequence[User]:
        """Lock several users in one statement, in `accounts.in_lock_order`, and read them.

        Rows are locked in the order they are sorted; "C" orders text by code point, as
        Python sorts it, whatever the database's collation.
        """
        statement = (
            select(User)
            .where(User.id.in_(user_ids))
            .order_by(literal_column('users.id COLLATE "C"'))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.db.execute(statement)).scalars().all()

    async def summary_due(self, now: datetime, limit: int) -> list[str]:
        """Users whose weekly summary is due (or not yet worked out), the longest-waiting
        first: a range scan of the partial index `ix_users_summary_due`."""
        due = summary_due_column()
        statement = (
            select(User.id).where(User.weekly_summary, due <= now).order_by(due).limit(limit)
        )
        return list((await self.db.execute(statement)).scalars())
