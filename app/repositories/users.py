from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db import execute, fetch_all, fetch_one
from app.models import User, summary_due_column
from app.repositories.base import Repository, loaded

# The columns the statements below return, first and in this order: every column of
# `users`, so no attribute of a User read here is ever left unloaded.
USER_COLUMNS = (
    "id",
    "username",
    "timezone",
    "github_login",
    "created_at",
    "remind_after_minutes",
    "weekly_summary",
    "next_summary_at",
)
_COLUMNS = ", ".join(USER_COLUMNS)

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
LOCK_AND_READ_USER = f"""
WITH renamed AS (
    UPDATE users SET username = %(username)s
    WHERE id = %(user_id)s AND %(username)s::text IS NOT NULL
        AND username IS DISTINCT FROM %(username)s::text
    RETURNING {_COLUMNS}
), locked AS (
    SELECT {_COLUMNS} FROM users
    WHERE id = %(user_id)s AND NOT EXISTS (SELECT FROM renamed)
    FOR UPDATE
), created AS (
    INSERT INTO users (id, username, timezone)
    SELECT %(user_id)s, %(username)s, %(timezone)s
    WHERE NOT EXISTS (SELECT FROM renamed) AND NOT EXISTS (SELECT FROM locked)
    ON CONFLICT (id) DO UPDATE SET username = coalesce(EXCLUDED.username, users.username)
    RETURNING {_COLUMNS}
)
SELECT * FROM renamed UNION ALL SELECT * FROM locked UNION ALL SELECT * FROM created
"""  # noqa: S608 - column names only

USER_BY_ID = f"SELECT {_COLUMNS} FROM users WHERE id = %s"  # noqa: S608 - column names only
USER_BY_GITHUB_LOGIN = f"""
SELECT {_COLUMNS} FROM users WHERE lower(github_login) = %s
"""  # noqa: S608 - column names only
# A new timezone moves the next weekly summary to Monday morning there: NULL has the next
# tick work it out.
SET_TIMEZONE = "UPDATE users SET timezone = %s, next_summary_at = NULL WHERE id = %s"
SET_GITHUB_LOGIN = "UPDATE users SET github_login = %s WHERE id = %s"
SET_REMINDERS = "UPDATE users SET remind_after_minutes = %s WHERE id = %s"
SET_WEEKLY_SUMMARY = """
UPDATE users SET weekly_summary = %s,
    next_summary_at = CASE WHEN %s THEN NULL ELSE next_summary_at END
WHERE id = %s
"""
SET_NEXT_SUMMARIES = """
UPDATE users SET next_summary_at = due.at
FROM unnest(%s::text[], %s::timestamptz[]) AS due (id, at)
WHERE users.id = due.id
"""

# Several users locked in one statement, in `accounts.in_lock_order`, and read. Rows are
# locked in the order they are sorted; "C" orders text by code point, as Python sorts it,
# whatever the database's collation.
LOCK_USERS = f"""
SELECT {_COLUMNS} FROM users WHERE id = ANY(%s) ORDER BY id COLLATE "C" FOR UPDATE
"""  # noqa: S608 - column names only


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
        self.committed(user, timezone=timezone, next_summary_at=None)

    async def set_github_login(self, user: User, login: str | None) -> None:
        await execute(self.db, SET_GITHUB_LOGIN, (login, user.id))
        self.committed(user, github_login=login)

    async def set_remind_after(self, user: User, minutes: int | None) -> None:
        await execute(self.db, SET_REMINDERS, (minutes, user.id))
        self.committed(user, remind_after_minutes=minutes)

    async def set_weekly_summary(self, user: User, on: bool) -> None:
        """Turn summaries on or off; turned back on, the next tick works out when."""
        due_again = on and not user.weekly_summary
        await execute(self.db, SET_WEEKLY_SUMMARY, (on, due_again, user.id))
        values: dict[str, Any] = {"weekly_summary": on}
        if due_again:
            values["next_summary_at"] = None
        self.committed(user, **values)

    async def set_next_summaries(self, due: Sequence[tuple[str, datetime]]) -> None:
        """When each user's next weekly summary is due: one statement for them all."""
        if due:
            ids, times = zip(*due, strict=True)
            await execute(self.db, SET_NEXT_SUMMARIES, (list(ids), list(times)))

    async def by_github_login(self, login: str) -> User | None:
        return _user_or_none(await fetch_one(self.db, USER_BY_GITHUB_LOGIN, (login.lower(),)))

    async def lock_many(self, user_ids: Sequence[str]) -> list[User]:
        """Lock several users in one statement, in `accounts.in_lock_order`, and read them."""
        return [user_from(row) for row in await fetch_all(self.db, LOCK_USERS, (list(user_ids),))]

    async def summary_due(self, now: datetime, limit: int) -> list[str]:
        """Users whose weekly summary is due (or not yet worked out), the longest-waiting
        first: a range scan of the partial index `ix_users_summary_due`."""
        due = summary_due_column()
        statement = (
            select(User.id).where(User.weekly_summary, due <= now).order_by(due).limit(limit)
        )
        return list((await self.db.execute(statement)).scalars())
