from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, select, update

from app.models import ApiToken, LinkPurpose, LoginLink, SignIn, User
from app.repositories.base import Repository


def _owner_of_live(
    credential: type[ApiToken | SignIn], live: ColumnElement[bool], values: dict[str, Any]
) -> Any:
    """The user owning the live credential of a hash, marking its use in the same statement.

    The hash and the times are bound per call, under names no column has: an UPDATE reads a
    parameter named like a column as a SET value.
    """
    used = (
        update(credential)
        .where(credential.token_hash == bindparam("hash_given"), live)
        .values(**values)
        .returning(credential.user_id)
        .cte("used")
    )
    return select(User).join(used, used.c.user_id == User.id)


# Every REST call and page load runs one of these, so each is built once, on first use:
# building it and deriving its cache key cost more CPU than executing it.
@cache
def _use_token() -> Any:
    return _owner_of_live(
        ApiToken, ApiToken.revoked_at.is_(None), {"last_used_at": bindparam("now_used")}
    )


@cache
def _use_sign_in() -> Any:
    return _owner_of_live(
        SignIn,
        SignIn.expires_at > bindparam("now_used"),
        {"last_seen_at": bindparam("now_used"), "expires_at": bindparam("until")},
    )


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


class SignInRepository(Repository):
    async def add(self, user_id: str, token_hash: str, at: datetime, until: datetime) -> None:
        self.db.add(
            SignIn(user_id=user_id, token_hash=token_hash, last_seen_at=at, expires_at=until)
        )
        await self.db.flush()

    async def use(self, token_hash: str, at: datetime, until: datetime) -> User | None:
        """The owner of a live sign-in, which now lasts `until`: one statement."""
        parameters = {"hash_given": token_hash, "now_used": at, "until": until}
        return (await self.db.execute(_use_sign_in(), parameters)).scalar_one_or_none()

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
