"""FastAPI dependencies shared by every front door."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.config import get_settings
from app.db import database
from app.errors import Forbidden, NotConfigured, NotFound, Unauthorized
from app.models import SessionSource, User
from server import logging as request_log
from server.web import cookies


async def get_db() -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler returns, rolled back on error.

    Routes declare it with `scope="function"` so the commit happens before the response is
    sent; a failed commit is then an error response, never a reported success.
    """
    async with database.sessions() as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise


# --- Discord request signatures -------------------------------------------------------

DISCORD_SIGNATURE_MAX_AGE = 300  # seconds either side of now, as Discord recommends


@lru_cache(maxsize=4)
def _discord_verify_key(public_key_hex: str) -> VerifyKey:
    return VerifyKey(bytes.fromhex(public_key_hex))


async def verified_discord_body(request: Request) -> bytes:
    """The raw body of a request Discord signed, or 401 before anything else is read.

    Headers are read by hand so a missing one is 401, not a validation 422. The age check
    uses the wall clock, never the domain clock, because it is about the network request.
    """
    public_key = get_settings().discord_public_key
    if public_key is None:
        raise NotConfigured("Discord is not configured on this server (DISCORD_PUBLIC_KEY).")
    signature = request.headers.get("x-signature-ed25519")
    timestamp = request.headers.get("x-signature-timestamp")
    if not signature or not timestamp:
        raise Unauthorized("Missing Discord signature headers.")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("Malformed Discord signature timestamp.")
    if abs(time.time() - int(timestamp)) > DISCORD_SIGNATURE_MAX_AGE:
        raise Unauthorized("Stale Discord signature timestamp.")
    try:
        signature_bytes = bytes.fromhex(signature)
    except ValueError:
        raise Unauthorized("Malformed Discord signature.") from None
    body = await request.body()
    try:
        _discord_verify_key(public_key).verify(timestamp.encode() + body, signature_bytes)
    except (CryptoError, ValueError, TypeError):
        raise Unauthorized("Invalid Discord signature.") from None
    return body


# --- Callers of the REST API and the page: a personal token, or the page's cookie -------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

authorization_header = APIKeyHeader(
    name="Authorization",
    scheme_name="PersonalToken",
    description="`Token <token>` or `Bearer <token>`; create one with `timetrack token create`.",
    auto_error=False,
)


class CsrfRejected(Forbidden):
    code = "csrf"


@dataclass(frozen=True)
class Caller:
    """The signed-in user, and whether the call came from the page (cookie) or a token."""

    user: User
    via_cookie: bool

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def source(self) -> SessionSource:
        return SessionSource.WEB if self.via_cookie else SessionSource.API


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Token realm="timetrack"'})


def read_page_session(request: Request) -> cookies.PageSession | None:
    value = request.cookies.get(cookies.COOKIE_NAME)
    return cookies.read(value) if value else None


async def page_user(db: AsyncSession, session: cookies.PageSession) -> User | None:
    """The user a valid cookie names, or None if that user no longer exists."""
    try:
        return await accounts.get_user(db, session.user_id)
    except NotFound:
        return None


async def _token_user(db: AsyncSession, authorization: str) -> User:
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() not in {"token", "bearer"} or not credentials:
        raise _unauthorized(
            "Send the header as `Authorization: Token <token>` or `Bearer <token>`."
        )
    user = await accounts.user_for_token(db, credentials)
    if user is None:
        raise _unauthorized("This token is unknown or has been revoked.")
    return user


async def current_caller(
    request: Request,
    db: Annotated[AsyncSession, Depends(get_db, scope="function")],
    authorization: Annotated[str | None, Security(authorization_header)] = None,
) -> Caller:
    """Who is calling: a token in `Authorization` wins; otherwise the page's signed cookie.

    Under the cookie, unsafe methods must echo the page's CSRF token in `X-CSRF-Token`.
    """
    if authorization is not None:
        token_user = await _token_user(db, authorization)
        request_log.identify(request, token_user.id)
        return Caller(token_user, via_cookie=False)
    session = read_page_session(request)
    if session is None:
        raise _unauthorized(
            "Sign in: send `Authorization: Token <token>` (from `timetrack token create`), "
            "or open a sign-in link from /web in Discord."
        )
    if request.method not in SAFE_METHODS and not cookies.csrf_matches(
        session, request.headers.get(cookies.CSRF_HEADER)
    ):
        raise CsrfRejected("The X-CSRF-Token header is missing or wrong. Reload the page.")
    user = await page_user(db, session)
    if user is None:
        raise _unauthorized("Your sign-in is no longer valid. Ask for a new link.")
    request_log.identify(request, user.id)
    return Caller(user, via_cookie=True)


# --- GitHub webhook signatures ----------------------------------------------------------


async def verified_github_body(request: Request) -> bytes:
    """The raw body of a delivery signed with GITHUB_WEBHOOK_SECRET, checked before parsing.

    503 when no secret is configured (the endpoint would otherwise accept anything), 401
    for a missing or wrong `X-Hub-Signature-256`; the comparison is constant-time.
    """
    secret = get_settings().github_webhook_secret
    if secret is None:
        raise NotConfigured("GitHub webhooks are not configured on this server.")
    signature = request.headers.get("x-hub-signature-256", "")
    if not signature.startswith("sha256="):
        raise Unauthorized("Missing X-Hub-Signature-256 header.")
    body = await request.body()
    expected = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), f"sha256={expected}".encode()):
        raise Unauthorized("Invalid X-Hub-Signature-256 signature.")
    return body
