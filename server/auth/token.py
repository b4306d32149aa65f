"""Personal API tokens: `Authorization: Token <t>` (as BLT's clients send) or `Bearer <t>`."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.models import User
from server.auth import throttle

authorization_header = APIKeyHeader(
    name="Authorization",
    scheme_name="PersonalToken",
    description="`Token <token>` or `Bearer <token>`; create one with `timetrack token create`.",
    auto_error=False,
)


def unauthorized(detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(
        401, detail, headers={"WWW-Authenticate": 'Token realm="timetrack"', **(headers or {})}
    )


async def user_for_header(request: Request, db: AsyncSession, authorization: str) -> User:
    """The token's owner; 429 while the address is throttled, before any token is looked
    up; 401 (counted as a failure) for a malformed header or an unknown or revoked token."""
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() not in {"token", "bearer"} or not credentials:
        await throttle.check(request, db)
        throttle.refused(request, db)
        raise unauthorized("Send the header as `Authorization: Token <token>` or `Bearer <token>`.")
    # The throttle and the token in one statement: a throttled address looks up no token.
    user, seconds = await accounts.user_for_token_unless_throttled(
        db, credentials, throttle.client_address(request)
    )
    throttle.wait(seconds)
    if user is None:
        throttle.refused(request, db)
        raise unauthorized("This token is unknown or has been revoked.")
    return user
