"""The page's sign-in cookie.

It holds the user id and a random nonce, signed (not encrypted) with the settings'
signing key, and lasts 30 days. The nonce is what the CSRF token is derived from
(`server.auth.csrf`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app import accounts
from app.config import get_settings
from app.errors import NotFound
from app.models import User

COOKIE_NAME = "timetrack_session"
COOKIE_LIFETIME = timedelta(days=30)

_SALT = "timetrack.page-session"


@dataclass(frozen=True)
class PageSession:
    user_id: str
    nonce: str


@lru_cache(maxsize=4)
def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=_SALT)


def _key() -> str:
    return get_settings().signing_key()


def issue(user_id: str) -> str:
    """A signed cookie value for a freshly signed-in user."""
    return str(_serializer(_key()).dumps({"u": user_id, "n": secrets.token_urlsafe(16)}))


def read(value: str) -> PageSession | None:
    """The session in a cookie value, or None when it is forged, expired or malformed."""
    try:
        claims: Any = _serializer(_key()).loads(value, max_age=int(COOKIE_LIFETIME.total_seconds()))
    except (BadSignature, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    user_id, nonce = claims.get("u"), claims.get("n")
    if not isinstance(user_id, str) or not isinstance(nonce, str) or not user_id or not nonce:
        return None
    return PageSession(user_id=user_id, nonce=nonce)


def from_request(request: Request) -> PageSession | None:
    value = request.cookies.get(COOKIE_NAME)
    return read(value) if value else None


async def user_of(db: AsyncSession, session: PageSession) -> User | None:
    """The user a valid cookie names, or None if that user no longer exists."""
    try:
        return await accounts.get_user(db, session.user_id)
    except NotFound:
        return None


def set_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(COOKIE_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
