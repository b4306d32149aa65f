from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from app.db import fetch_one
from app.models import ApiToken, LoginLink, User
from app.repositories.base import Repository
from app.repositories.users import user_from

# Every REST call runs this: the token's owner, marking the token used, in one statement.
OWNER_MARKED_USED = """
WITH used AS (
    UPDATE api_tokens SET last_used_at = %s
    WHERE token_hash = %s AND revoked_at IS NULL
    RETURNING user_id
)
SELECT users.id, users.username, users.timezone, users.github_login, users.created_at
FROM users JOIN used ON used.user_id = users.id
"""


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
