"""Linking a GitHub login, verified by GitHub's OAuth web flow.

GET /github/link starts the flow for the signed-in page user, or for the user named by a
one-time start link (`accounts.create_github_link_start`, what `/github link` in Discord
hands out, because a Discord user may have no page cookie). GET /github/callback checks
the state, trades the code for a token, asks GitHub who that is, and records the login
with `accounts.link_github`. GitHub's token is used once and never stored; no scope is
requested, because reading the login needs none.

The `state` sent to GitHub is a one-time link of its own: it names the user, expires, is
spent by the first callback, and must equal a cookie set in the browser that started the
flow, so someone else's half-finished flow (a forged callback) cannot link their GitHub
account to a victim. Start links and states that fail count against the sign-in throttle.
"""

from __future__ import annotations

import hmac
import logging
from html import escape
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

import app as package
from app import accounts
from app.config import Settings, get_settings
from app.errors import Conflict
from server import outbound
from server.auth import cookie, throttle
from server.transaction import Db

logger = logging.getLogger(__name__)

router = APIRouter(tags=["github"], include_in_schema=False)

NONCE_COOKIE = "timetrack_github_oauth"
TIMEOUT = httpx.Timeout(8.0, connect=3.0)


class OauthFailed(Exception):
    """GitHub did not complete the exchange; the message is one sentence for the page."""


def _page(title: str, text: str, status_code: int = 200) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · timetrack</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;"
        "padding:0 1rem}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p>"
        '<p><a href="/">Back to timetrack</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status_code)


def _not_configured() -> HTMLResponse:
    return _page(
        "GitHub linking is not configured",
        "This server has no GitHub OAuth app (GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET). "
        "Ask its operator to link your login with `timetrack github link`.",
        503,
    )


def _start_failed(text: str, status_code: int = 400) -> HTMLResponse:
    return _page("GitHub was not linked", text, status_code)


async def _starting_user(db: AsyncSession, request: Request, token: str | None) -> str | None:
    """Whom the flow is for: the start link's user (spending it), else the cookie's."""
    if token is not None:
        user_id = await accounts.consume_github_link_start(db, token)
    else:
        sign_in = cookie.from_request(request)
        if sign_in is None:
            return None
        user = await cookie.user_of(db, sign_in)
        user_id = user.id if user is not None else None
    if user_id is None:
        throttle.refused(request, db)
    return user_id


@router.get("/github/link", dependencies=[Depends(throttle.guard)])
async def start_link(request: Request, db: Db, token: str | None = None) -> Response:
    settings = get_settings()
    if not settings.github_oauth_configured:
        return _not_configured()
    user_id = await _starting_user(db, request, token)
    if user_id is None:
        if token is not None:
            return _start_failed(
                "This link has been used, has expired or is not valid. "
                "Run /github link in Discord again."
            )
        return _start_failed(
            "Sign in first: open a sign-in link from /web in Discord, or run /github link there.",
            401,
        )
    state = await accounts.create_github_state(db, user_id)
    query = urlencode(
        {
            "client_id": settings.github_client_id,
            "redirect_uri": f"{settings.base_url}/github/callback",
            "state": state,
            "allow_signup": "false",
        }
    )
    response = RedirectResponse(
        f"{settings.github_oauth_base}/login/oauth/authorize?{query}", status_code=303
    )
    response.set_cookie(
        NONCE_COOKIE,
        state,
        max_age=int(accounts.LINK_LIFETIME.total_seconds()),
        path="/github",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


async def _state_user(db: AsyncSession, request: Request, state: str) -> str:
    """The user the flow was started for, spending the state; OauthFailed (and a counted
    failure) when it cannot be trusted."""
    started_here = request.cookies.get(NONCE_COOKIE, "")
    if not hmac.compare_digest(state.encode(), started_here.encode()):
        throttle.refused(request, db)
        raise OauthFailed(
            "This sign-in was started in another browser. Start linking again in this one."
        )
    user_id = await accounts.consume_github_state(db, state)
    if user_id is None:
        throttle.refused(request, db)
        raise OauthFailed("This sign-in has expired or was already used. Start linking again.")
    return user_id


async def _github_login(settings: Settings, code: str) -> str:
    """Trade the code for a token, then ask GitHub whose token it is."""
    assert settings.github_client_secret is not None
    headers = {"Accept": "application/json", "User-Agent": f"timetrack/{package.__version__}"}
    try:
        http = outbound.client()
        exchanged = await http.post(
            f"{settings.github_oauth_base}/login/oauth/access_token",
            data={
                "client_id": settings.github_client_id,
                "client_secret": settings.github_client_secret.get_secret_value(),
                "code": code,
                "redirect_uri": f"{settings.base_url}/github/callback",
            },
            headers=headers,
            timeout=TIMEOUT,
        )
        grant = exchanged.json() if exchanged.is_success else {}
        token = grant.get("access_token") if isinstance(grant, dict) else None
        if not isinstance(token, str) or not token:
            reason = grant.get("error_description") if isinstance(grant, dict) else None
            logger.warning("github oauth: code exchange refused (%s)", exchanged.status_code)
            raise OauthFailed(
                f"GitHub refused the sign-in{f' ({reason})' if reason else ''}. "
                "Start linking again."
            )
        who = await http.get(
            f"{settings.github_api_base}/user",
            headers=headers
            | {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
            timeout=TIMEOUT,
        )
        profile = who.json() if who.is_success else {}
    except (httpx.HTTPError, ValueError):
        raise OauthFailed("GitHub could not be reached. Try again in a minute.") from None
    login = profile.get("login") if isinstance(profile, dict) else None
    if not isinstance(login, str) or not login:
        raise OauthFailed("GitHub did not say who you are. Start linking again.")
    return login


@router.get("/github/callback", dependencies=[Depends(throttle.guard)])
async def finish_link(
    request: Request,
    db: Db,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    settings = get_settings()
    if not settings.github_oauth_configured:
        return _not_configured()
    if error is not None:
        return _start_failed("GitHub linking was cancelled on GitHub. Nothing changed.")
    if not code or not state:
        return _start_failed("The answer from GitHub was incomplete. Start linking again.")
    try:
        user_id = await _state_user(db, request, state)
    except OauthFailed as failure:
        return _start_failed(str(failure))
    try:
        login = await _github_login(settings, code)
    except OauthFailed as failure:
        return _start_failed(str(failure), 502)
    try:
        await accounts.link_github(db, user_id, login)
    except Conflict as conflict:
        # Nothing was written: link_github refuses before it changes anything.
        return _page(
            "GitHub was not linked",
            f"{conflict.detail} That account has to run /github unlink first.",
            409,
        )
    response = _page(
        "GitHub linked",
        f"Your GitHub account {login} is linked. Issues assigned to it now start your timer.",
    )
    response.delete_cookie(NONCE_COOKIE, path="/github")
    return response
