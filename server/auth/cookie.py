"""The page's sign-in cookie.

It holds a random token naming a sign-in the server keeps (`accounts.create_sign_in`); only
the token's hash is stored. Signing out deletes that record, so the cookie stops working on
the very next request, in every process. A sign-in lasts 30 days from the last visit: each
visit extends the record, and the page renews the cookie. The CSRF token is derived from
the cookie's token (`server.auth.csrf`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app import accounts
from app.config import get_settings
from app.models import User

COOKIE_NAME = "timetrack_session"


def from_request(request: Request) -> str | None:
    """The sign-in token the browser sent, if any (not yet checked)."""
    return request.cookies.get(COOKIE_NAME) or None


async def user_of(db: AsyncSession, token: str) -> User | None:
    """The user a live sign-in belongs to, or None when it is unknown, ended or expired."""
    return await accounts.user_for_sign_in(db, token)


async def sign_in(db: AsyncSession, response: Response, user_id: str) -> None:
    """Start a sign-in for the user and hand its cookie to the browser."""
    set_cookie(response, await accounts.create_sign_in(db, user_id))


def set_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(accounts.SIGN_IN_LIFETIME.total_seconds()),
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


def clearing_headers() -> dict[str, str]:
    """The header that makes the browser forget the cookie, for an error answer."""
    response = Response()
    clear_cookie(response)
    return {"Set-Cookie": response.headers["set-cookie"]}
