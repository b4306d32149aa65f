"""Who is calling the REST API: a personal token, or the page's cookie with CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security

from app import accounts
from app.models import SessionSource, User
from server import logging as request_log
from server.auth import cookie, csrf, throttle, token
from server.transaction import Db


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


async def current_caller(
    request: Request,
    db: Db,
    authorization: Annotated[str | None, Security(token.authorization_header)] = None,
) -> Caller:
    """A token in `Authorization` wins; otherwise the page's sign-in cookie.

    A throttled address is refused before either is looked up: the statement that looks
    one up checks the throttle first, and refusals that look nothing up check it alone.
    Under the cookie, unsafe methods must echo the page's CSRF token in `X-CSRF-Token`.
    """
    if authorization is not None:
        token_user = await token.user_for_header(request, db, authorization)
        request_log.identify(request, token_user.id)
        return Caller(token_user, via_cookie=False)
    sign_in = cookie.from_request(request)
    if sign_in is None:
        await throttle.check(request, db)
        raise token.unauthorized(
            "Sign in: send `Authorization: Token <token>` (from `timetrack token create`), "
            "or open a sign-in link from /web in Discord."
        )
    if request.method not in csrf.SAFE_METHODS and not csrf.matches(
        sign_in, request.headers.get(csrf.CSRF_HEADER)
    ):
        await throttle.check(request, db)
        raise csrf.CsrfRejected("The X-CSRF-Token header is missing or wrong. Reload the page.")
    user, seconds = await accounts.user_for_sign_in_unless_throttled(
        db, sign_in, throttle.client_address(request)
    )
    throttle.wait(seconds)
    if user is None:
        throttle.refused(request, db)
        # The browser forgets the dead cookie, so the page's next calls do not fail again.
        raise token.unauthorized(
            "Your sign-in is no longer valid. Ask for a new link.", cookie.clearing_headers()
        )
    request_log.identify(request, user.id)
    return Caller(user, via_cookie=True)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
