"""The page's sign-in cookie and the CSRF token derived from it.

The cookie holds the user id and a random nonce, signed (not encrypted) with the settings'
signing key. The CSRF token is an HMAC of that nonce: the page embeds it in a meta tag and
sends it back as `X-CSRF-Token`, which a cross-site form or script cannot read or forge.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from app.config import get_settings

COOKIE_NAME = "timetrack_session"
COOKIE_LIFETIME = timedelta(days=30)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"

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


def csrf_token(session: PageSession) -> str:
    message = f"csrf:{session.user_id}:{session.nonce}".encode()
    return hmac.new(_key().encode(), message, hashlib.sha256).hexdigest()


def csrf_matches(session: PageSession, supplied: str | None) -> bool:
    if not supplied:
        return False
    return hmac.compare_digest(csrf_token(session).encode(), supplied.strip().encode())


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
