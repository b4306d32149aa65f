from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update

from app.models import ApiToken, LoginLink, User
from app.repositories.base import Repository


@cache
def _use_token() -> Any:
    """Every REST call runs this, so it is built once, on first use (building it and deriving
    its cache key cost more CPU than executing it). The token's hash and the time are bound
    per call, under names no column has: an UPDATE reads a parameter named like a column as
    a SET value."""
    used = (
        update(ApiToken)
        .where(ApiToken.token_hash == bindparam("hash_given"), ApiToken.revoked_at.is_(None))
        .values(last_used_at=bindparam("now_used"))
        .returning(ApiToken.user_id)
        .cte("used")
    )
    return select(User).join(used, used.c.user_id == User.id)


class ApiTokenRepository(Repository):
    async def add(self, user_id: str, name: str | None, token_hash: str) -> ApiToken:
        token = ApiToken(user_id=user_id, name=name, token_hash=token_hash)
        self.db.add(token)
        await self.db.flush()
        return token

    async def use(self, token_hash: str, at: datetime) -> User | None:
        """The owner of a live token, marking it used in the same statement."""
        parameters = {"hash_given": token_hash, "now_used": at}
        return (await self.db.execute(_use_token(), parameters)).scalar_one_or_none()

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


class LoginLinkRepository(Repository):
    async def add(self, user_id: str, token_hash: str, expires_at: datetime) -> LoginLink:
        link = LoginLink(user_id=user_id, token_hash=token_hash, expires_at=expires_at)
        self.db.add(link)
        await self.db.flush()
        return link

    async def consume(self, token_hash: str, at: datetime) -> str | None:
        """Mark a live link used and return its user id; None if unknown, used or expired.

        A single conditional UPDATE, so two clicks on one link cannot both succeed.
        """
        statement = (
            update(LoginLink)
            .where(
                LoginLink.token_hash == token_hash,
                LoginLink.used_at.is_(None),
                LoginLink.expires_at > at,
            )
            .values(used_at=at)
            .returning(LoginLink.user_id)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()
