from __future__ import annotations

from typing import Any

from app.db import execute, fetch_one
from app.models import User
from app.repositories.base import Repository, loaded

# The columns the statements below return, first and in this order.
USER_COLUMNS = ("id", "username", "timezone", "github_login", "created_at")

# The lock every mutation takes first, in one statement that writes only when it must: a
# new user is inserted, and a username that changed on Discord is updated. A known user's row
# is only locked: ON CONFLICT locks the row it finds whether or not its WHERE then lets the
# update happen, and the lock writes no new row version (docs/performance.md).
LOCK_USER = """
INSERT INTO users (id, username, timezone) VALUES (%(user_id)s, %(username)s, %(timezone)s)
ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username
WHERE EXCLUDED.username IS NOT NULL AND users.username IS DISTINCT FROM EXCLUDED.username
"""

# The same lock, for callers that need the user: the row comes back as stored once locked.
# ON CONFLICT returns only rows it wrote, so a known user's row is locked with SELECT ... FOR
# UPDATE instead, which re-reads a row another transaction changed while we waited for it.
# Each CTE runs only when the one before it found nothing.
LOCK_AND_READ_USER = """
WITH renamed AS (
    UPDATE users SET username = %(username)s
    WHERE id = %(user_id)s AND %(username)s::text IS NOT NULL
        AND username IS DISTINCT FROM %(username)s::text
    RETURNING id, username, timezone, github_login, created_at
), locked AS (
    SELECT id, username, timezone, github_login, created_at FROM users
    WHERE id = %(user_id)s AND NOT EXISTS (SELECT FROM renamed)
    FOR UPDATE
), created AS (
    INSERT INTO users (id, username, timezone)
    SELECT %(user_id)s, %(username)s, %(timezone)s
    WHERE NOT EXISTS (SELECT FROM renamed) AND NOT EXISTS (SELECT FROM locked)
    ON CONFLICT (id) DO UPDATE SET username = coalesce(EXCLUDED.username, users.username)
    RETURNING id, username, timezone, github_login, created_at
)
SELECT * FROM renamed UNION ALL SELECT * FROM locked UNION ALL SELECT * FROM created
"""

USER_BY_ID = "SELECT id, username, timezone, github_login, created_at FROM users WHERE id = %s"
USER_BY_GITHUB_LOGIN = """
SELECT id, username, timezone, github_login, created_at FROM users WHERE lower(github_login) = %s
"""
SET_TIMEZONE = "UPDATE users SET timezone = %s WHERE id = %s"
SET_GITHUB_LOGIN = "UPDATE users SET github_login = %s WHERE id = %s"


def user_from(row: Any) -> User:
    """A User read by a plain statement whose first columns are USER_COLUMNS."""
    return loaded(User, USER_COLUMNS, row)


def _user_or_none(row: Any) -> User | None:
    return None if row is None else user_from(row)


class UserRepository(Repository):
    async def get(self, user_id: str) -> User | None:
        return _user_or_none(await fetch_one(self.db, USER_BY_ID, (user_id,)))

    async def lock(self, user_id: str, username: str | None, timezone: str) -> None:
        """Create the user if new, refresh the username, and hold the row lock: one statement."""
        parameters = {"user_id": user_id, "username": username, "timezone": timezone}
        await execute(self.db, LOCK_USER, parameters)

    async def upsert_locked(self, user_id: str, username: str | None, timezone: str) -> User:
        """The same as `lock`, returning the user."""
        parameters = {"user_id": user_id, "username": username, "timezone": timezone}
        return user_from(await fetch_one(self.db, LOCK_AND_READ_USER, parameters))

    async def set_timezone(self, user: User, timezone: str) -> None:
        await execute(self.db, SET_TIMEZONE, (timezone, user.id))
        self.committed(user, timezone=timezone)

    async def set_github_login(self, user: User, login: str | None) -> None:
        await execute(self.db, SET_GITHUB_LOGIN, (login, user.id))
        self.committed(user, github_login=login)

    async def by_github_login(self, login: str) -> User | None:
        return _user_or_none(await fetch_one(self.db, USER_BY_GITHUB_LOGIN, (login.lower(),)))
