"""The web page: `/` (the timer, the week, teams, recent sessions), team invitations, sign-in
links, sign-out, assets.

Every route that reads a credential (the cookie, a sign-in link) is behind the sign-in
throttle (`server.auth.throttle`), and a credential that fails is counted.

The page is rendered on the server with the caller's CSRF token in a meta tag; small ES
modules in `static/` then talk to the REST API with the page's cookie. Nothing here is
inline script or inline style, so a strict Content-Security-Policy can be applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

import app as package
from app import accounts, limits, timezones
from app.config import get_settings
from app.errors import InvalidInput, NotFound
from app.models import User
from server.auth import cookie, csrf, throttle
from server.transaction import Db

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Only files that exist when the app starts are served; a name from the URL never becomes a
# path on its own.
STATIC_FILES = {
    path.name: path
    for path in sorted(STATIC_DIR.iterdir())
    if path.is_file() and path.suffix in MEDIA_TYPES
}
# A sign-out form is tiny; anything bigger is not one of ours.
MAX_FORM_BYTES = 4096

templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


async def _signed_in(request: Request, db: AsyncSession) -> tuple[str, User] | None:
    """This browser's live sign-in (its token, its user); a dead cookie counts as a failure."""
    sign_in = cookie.from_request(request)
    if sign_in is None:
        return None
    user = await cookie.user_of(db, sign_in)
    if user is None:
        throttle.refused(request, db)
        return None
    return sign_in, user


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request,
        name,
        {"version": package.__version__, **context},
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/", dependencies=[Depends(throttle.guard)])
async def page(request: Request, db: Db) -> Response:
    return await _main_page(request, db)


@router.get("/teams/join/{token}", dependencies=[Depends(throttle.guard)])
async def team_invitation(token: str, request: Request, db: Db) -> Response:
    """The page, offering to join the team of an invitation (an invite URL). Opening it
    spends nothing: joining is the page's POST to the API, so a link preview cannot join."""
    response = await _main_page(request, db, join_token=token)
    # The invitation is in the URL: no page it opens may pass it on as a referrer.
    response.headers.update(LINK_PAGE_HEADERS)
    return response


async def _main_page(request: Request, db: AsyncSession, join_token: str | None = None) -> Response:
    current = await _signed_in(request, db)
    if current is None:
        response = _page(request, "signin.html", {})
        if cookie.from_request(request) is not None:
            cookie.clear_cookie(response)
        return response
    sign_in, user = current
    context = {
        "user": user,
        "csrf_token": csrf.token_for(sign_in),
        "timezones": timezones.names(limit=1000),
        "github_linking": get_settings().github_oauth_configured,
        "limits": limits.as_dict(),
        "join_token": join_token,
    }
    response = _page(request, "page.html", context)
    # The sign-in slid forward on this visit; the cookie follows it.
    cookie.set_cookie(response, sign_in)
    return response


# Chat apps fetch links to draw a preview. Such a fetch must not spend the one-time link
# before its owner clicks it, so these agents get a page that spends nothing.
LINK_PREVIEW_AGENTS = (
    "discordbot",
    "slackbot",
    "twitterbot",
    "telegrambot",
    "whatsapp",
    "facebookexternalhit",
    "skypeuripreview",
)
# The sign-in link is in the URL: no page it opens may pass it on as a referrer.
LINK_PAGE_HEADERS = {**NO_STORE, "Referrer-Policy": "no-referrer"}


def _is_link_preview(request: Request) -> bool:
    agent = request.headers.get("user-agent", "").lower()
    return any(name in agent for name in LINK_PREVIEW_AGENTS)


def _link_failed(request: Request, db: AsyncSession, detail: str) -> Response:
    throttle.refused(request, db)
    response = _page(request, "login_failed.html", {"detail": detail}, status_code=400)
    response.headers.update(LINK_PAGE_HEADERS)
    return response


async def _spend_link(
    token: str, request: Request, db: AsyncSession, replacing: str | None
) -> Response:
    """Sign this browser in with the link, ending the sign-in it replaces."""
    try:
        user = await accounts.consume_login_link(db, token)
    except (InvalidInput, NotFound) as error:
        # NotFound only if the user vanished after the link was made; same advice applies.
        return _link_failed(request, db, error.detail)
    if replacing is not None:
        await accounts.sign_out(db, replacing)
    response = RedirectResponse("/", status_code=303)
    response.headers.update(LINK_PAGE_HEADERS)
    await cookie.sign_in(db, response, user.id)
    return response


@router.get("/login/{token}", dependencies=[Depends(throttle.guard)])
async def login(token: str, request: Request, db: Db) -> Response:
    """Spend a one-time sign-in link: set the page's cookie and go to the page.

    Signed in as someone else already, the browser is asked first: a link someone slipped
    into a page must not quietly swap whose account this is.
    """
    if _is_link_preview(request):
        response = _page(request, "signin.html", {})
        response.headers.update(LINK_PAGE_HEADERS)
        return response
    current = await _signed_in(request, db)
    if current is None:
        return await _spend_link(token, request, db, replacing=None)
    sign_in, user = current
    try:
        owner = await accounts.get_user(db, await accounts.login_link_owner(db, token))
    except (InvalidInput, NotFound) as error:
        return _link_failed(request, db, error.detail)
    if owner.id == user.id:
        return await _spend_link(token, request, db, replacing=sign_in)
    context = {"current": user, "owner": owner, "csrf_token": csrf.token_for(sign_in)}
    response = _page(request, "switch_account.html", context)
    response.headers.update(LINK_PAGE_HEADERS)
    return response


@router.post("/login/{token}", dependencies=[Depends(throttle.guard)])
async def confirm_login(token: str, request: Request, db: Db) -> Response:
    """Switch accounts with the link, as the confirmation page's form asks."""
    current = await _signed_in(request, db)
    if current is not None:
        await _require_csrf(request, current[0], "The form is out of date. Open the link again.")
    return await _spend_link(token, request, db, replacing=current[0] if current else None)


async def _form_csrf_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        fields = parse_qs(body.decode("latin-1"), max_num_fields=10)
    except ValueError:
        return None
    values = fields.get(csrf.CSRF_FORM_FIELD)
    return values[0] if values else None


async def _require_csrf(request: Request, sign_in: str, detail: str) -> None:
    """The page's forms carry the CSRF token as a field, scripts as the header."""
    supplied = request.headers.get(csrf.CSRF_HEADER) or await _form_csrf_token(request)
    if not csrf.matches(sign_in, supplied):
        raise csrf.CsrfRejected(detail)


def _signed_out() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.headers.update(NO_STORE)
    cookie.clear_cookie(response)
    return response


SIGN_OUT_FORM_STALE = "The sign-out form is out of date. Reload the page and try again."


@router.post("/logout", dependencies=[Depends(throttle.guard)])
async def logout(request: Request, db: Db) -> Response:
    """End this browser's sign-in: its cookie is refused from the next request on."""
    sign_in = cookie.from_request(request)
    if sign_in is not None:
        await _require_csrf(request, sign_in, SIGN_OUT_FORM_STALE)
        await accounts.sign_out(db, sign_in)
    return _signed_out()


@router.post("/logout/everywhere", dependencies=[Depends(throttle.guard)])
async def logout_everywhere(request: Request, db: Db) -> Response:
    """End every sign-in of this browser's user, in every browser."""
    sign_in = cookie.from_request(request)
    if sign_in is not None:
        await _require_csrf(request, sign_in, SIGN_OUT_FORM_STALE)
        current = await _signed_in(request, db)
        if current is not None:
            await accounts.sign_out_everywhere(db, current[1].id)
    return _signed_out()


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    path = STATIC_FILES.get(name)
    if path is None:
        raise NotFound("No such file.")
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"}
    )
