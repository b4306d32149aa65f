from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import fetch_one
from app.models import ApiToken, LinkPurpose, LoginLink, SignIn, User
from app.repositories.base import Repository
from app.repositories.users import USER_COLUMNS, user_from

_OWNER = ", ".join(f"users.{column}" for column in USER_COLUMNS)

# Every REST call runs this: the token's owner, marking the token used, in one statement.
OWNER_MARKED_USED = f"""
WITH used AS (
    UPDATE api_tokens SET last_used_at = %s
    WHERE token_hash = %s AND revoked_at IS NULL
    RETURNING user_id
)
SELECT {_OWNER}
FROM users JOIN used ON used.user_id = users.id
"""  # noqa: S608 - column names only

# Every page load runs this: the owner of a live sign-in, which now lasts until the given
# time, in one statement.
OWNER_OF_SIGN_IN = f"""
WITH used AS (
    UPDATE sign_ins SET last_seen_at = %(at)s, expires_at = %(until)s
    WHERE token_hash = %(token_hash)s AND expires_at > %(at)s
    RETURNING user_id
)
SELECT {_OWNER}
FROM users JOIN used ON used.user_id = users.id
"""  # noqa: S608 - column names only


def _unless_throttled(use: str) -> str:
    """`use` (an UPDATE of a live credential) run only while the client's address is not
    throttled, with the address's throttle in the same statement, so that a REST call stays
    within four statements.

    The row is the owner's columns (NULL when there is none) and then `failed_at`: when the
    address failed for the `skip + 1`-th last time after `since`, or NULL when it failed
    fewer times. When it is not NULL, the address is throttled, and the uncorrelated NOT
    EXISTS (an InitPlan, evaluated first) keeps the credential from even being looked up.
    """
    return f"""
WITH throttled AS (
    SELECT failed_at FROM auth_failures
    WHERE address = %(address)s AND failed_at > %(since)s
    ORDER BY failed_at DESC OFFSET %(skip)s LIMIT 1
), used AS (
    {use} AND NOT EXISTS (SELECT FROM throttled)
    RETURNING user_id
)
SELECT {_OWNER}, throttled.failed_at
FROM (SELECT) AS one
LEFT JOIN throttled ON true
LEFT JOIN (used JOIN users ON users.id = used.user_id) ON true
"""  # noqa: S608 - column names only


# A REST call with a token, or with the page's cookie: the throttle and the credential.
TOKEN_UNLESS_THROTTLED = _unless_throttled(
    "UPDATE api_tokens SET last_used_at = %(at)s "
    "WHERE token_hash = %(token_hash)s AND revoked_at IS NULL"
)
SIGN_IN_UNLESS_THROTTLED = _unless_throttled(
    "UPDATE sign_ins SET last_seen_at = %(at)s, expires_at = %(until)s "
    "WHERE token_hash = %(token_hash)s AND expires_at > %(at)s"
)


@dataclass(frozen=True)
class Throttle:
    """Whose failures to count: `address`'s after `since`, refused from the `limit`-th on."""

    address: str
    since: datetime
    limit: int

    def parameters(self) -> dict[str, Any]:
        return {"address": self.address, "since": self.since, "skip": self.limit - 1}


async def _owner_unless_throttled(
    db: AsyncSession, sql: str, throttle: Throttle, values: dict[str, Any]
) -> tuple[User | None, datetime | None]:
    row = await fetch_one(db, sql, {**values, **throttle.parameters()})
    owner = None if row[0] is None else user_from(row)
    return owner, row[len(USER_COLUMNS)]


class ApiTokenRepository(Repository):
    async def add(self, user_id: str, name: str | None, token_hash: str) -> ApiToken:
        token = ApiToken(user_id=user_id, name=name, token_hash=token_hash)
        self.db.add(token)
        await self.db.flush()
        return token

    async def use(self, token_hash: str, at: datetime) -> User | None:
        """The owner of a live token, marking it used in the same statement."""
        row = await fetch_one(self.db, OWNER_MARKED_USED, (at, token_hash))
        return None if row is None else user_from(row)

    async def use_unless_throttled(
        self, token_hash: str, at: datetime, throttle: Throttle
    ) -> tuple[User | None, datetime | None]:
        """As `use`, unless the address is throttled: the owner (None when unknown, revoked
        or throttled) and the failure that throttles it (None when it is not)."""
        values = {"token_hash": token_hash, "at": at}
        return await _owner_unless_throttled(self.db, TOKEN_UNLESS_THROTTLED, throttle, values)

    async def revoke(self, token_id: int, at: datetime) -> bool:
        statement = (
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(ApiToken.id)
        )
        return (await self.db.execute(statement)).scalar_one_or_none() is not None

    async def get(self, token_id: int) -> ApiToken | None:
        return await self.db.get(ApiToken, token_id)


class SignInRepository(Repository):
    async def add(self, user_id: str, token_hash: str, at: datetime, until: datetime) -> None:
        self.db.add(
            SignIn(user_id=user_id, token_hash=token_hash, last_seen_at=at, expires_at=until)
        )
        await self.db.flush()

    async def use(self, token_hash: str, at: datetime, until: datetime) -> User | None:
        """The owner of a live sign-in, which now lasts `until`: one statement."""
        parameters = {"token_hash": token_hash, "at": at, "until": until}
        row = await fetch_one(self.db, OWNER_OF_SIGN_IN, parameters)
        return None if row is None else user_from(row)

    async def use_unless_throttled(
        self, token_hash: str, at: datetime, until: datetime, throttle: Throttle
    ) -> tuple[User | None, datetime | None]:
        """As `use`, unless the address is throttled (see `ApiTokenRepository`)."""
        values = {"token_hash": token_hash, "at": at, "until": until}
        return await _owner_unless_throttled(self.db, SIGN_IN_UNLESS_THROTTLED, throttle, values)

    async def remove(self, token_hash: str) -> None:
        await self.db.execute(delete(SignIn).where(SignIn.token_hash == token_hash))

    async def remove_all(self, user_id: str) -> int:
        statement = delete(SignIn).where(SignIn.user_id == user_id).returning(SignIn.id)
        return len((await self.db.execute(statement)).all())

    async def prune(self, at: datetime) -> None:
        await self.db.execute(delete(SignIn).where(SignIn.expires_at <= at))


class LoginLinkRepository(Repository):
    async def add(
        self, user_id: str, purpose: LinkPurpose, token_hash: str, expires_at: datetime
    ) -> None:
        link = LoginLink(
            user_id=user_id, purpose=purpose, token_hash=token_hash, expires_at=expires_at
        )
        self.db.add(link)
        await self.db.flush()

    def _live(self, token_hash: str, purpose: LinkPurpose, at: datetime) -> ColumnElement[bool]:
        return (
            (LoginLink.token_hash == token_hash)
            & (LoginLink.purpose == purpose)
            & LoginLink.used_at.is_(None)
            & (LoginLink.expires_at > at)
        )

    async def owner(self, token_hash: str, purpose: LinkPurpose, at: datetime) -> str | None:
        """The user id of a live link, leaving it unspent."""
        statement = select(LoginLink.user_id).where(self._live(token_hash, purpose, at))
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def consume(self, token_hash: str, purpose: LinkPurpose, at: datetime) -> str | None:
        """Mark a live link used and return its user id; None if unknown, used or expired.

        A single conditional UPDATE, so two clicks on one link cannot both succeed.
        """
        statement = (
            update(LoginLink)
            .where(self._live(token_hash, purpose, at))
            .values(used_at=at)
            .returning(LoginLink.user_id)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def prune(self, at: datetime) -> None:
        await self.db.execute(delete(LoginLink).where(LoginLink.expires_at <= at))
