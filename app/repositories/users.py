from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.models import User
from app.repositories.base import Repository


class UserRepository(Repository):
    async def get(self, user_id: str) -> User | None:
        return await self.db.get(User, user_id)

    async def lock(self, user_id: str) -> User | None:
        """The row lock that serialises every mutation of one user's data."""
        statement = select(User).where(User.id == user_id).with_for_update()
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def upsert_locked(self, user_id: str, username: str | None, timezone: str) -> User:
        """Create the user if new, refresh the username, and hold the row lock: one statement.

        `ON CONFLICT DO UPDATE` locks the conflicting row for the rest of the transaction,
        exactly as `SELECT ... FOR UPDATE` would.
        """
        statement = (
            insert(User)
            .values(id=user_id, username=username, timezone=timezone)
            .on_conflict_do_update(
                index_elements=[User.id],
                set_={"username": func.coalesce(insert(User).excluded.username, User.username)},
            )
            .returning(User)
            .execution_options(populate_existing=True)
        )
        return (await self.db.execute(statement)).scalar_one()

    async def by_github_login(self, login: str) -> User | None:
        statement = select(User).where(func.lower(User.github_login) == login.lower())
        return (await self.db.execute(statement)).scalar_one_or_none()
