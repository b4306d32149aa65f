"""The web page: `/` (the timer, the week, recent sessions), sign-in links, sign-out, assets.

The page is rendered on the server with the caller's CSRF token in a meta tag; small ES
modules in `static/` then talk to the REST API with the page's cookie. Nothing here is
inline script or inline style, so a strict Content-Security-Policy can be applied.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import app as package
from app import accounts, limits, timezones
from app.config import get_settings
from app.errors import InvalidInput, NotFound
from server.auth import cookie, csrf
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


@router.get("/")
async def page(request: Request, db: Db) -> Response:
    session = cookie.from_request(request)
    user = await cookie.user_of(db, session) if session is not None else None
    if session is None or user is None:
        response = templates.TemplateResponse(
            request, "signin.html", {"version": package.__version__}, headers=NO_STORE
        )
        if session is not None:
            cookie.clear_cookie(response)
        return response
    context = {
        "version": package.__version__,
        "user": user,
        "csrf_token": csrf.token_for(session),
        "timezones": timezones.names(limit=1000),
        "github_linking": get_settings().github_oauth_configured,
        "limits": limits.as_dict(),
    }
    return templates.TemplateResponse(request, "page.html", context, headers=NO_STORE)


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


def _is_link_preview(request: Request) -> bool:
    agent = request.headers.get("user-agent", "").lower()
    return any(name in agent for name in LINK_PREVIEW_AGENTS)


@router.get("/login/{token}")
async def login(token: str, request: Request, db: Db) -> Response:
    """Spend a one-time sign-in link: set the page's cookie and go to the page."""
    if _is_link_preview(request):
        return templates.TemplateResponse(
            request,
            "signin.html",
            {"version": package.__version__},
            headers={**NO_STORE, "Referrer-Policy": "no-referrer"},
        )
    try:
        user = await accounts.consume_login_link(db, token)
    except (InvalidInput, NotFound) as error:
        # NotFound only if the user vanished after the link was made; same advice applies.
        return templates.TemplateResponse(
            request,
            "login_failed.html",
            {"version": package.__version__, "detail": error.detail},
            status_code=400,
            headers={**NO_STORE, "Referrer-Policy": "no-referrer"},
        )
    response = RedirectResponse("/", status_code=303)
    response.headers.update({**NO_STORE, "Referrer-Policy": "no-referrer"})
    cookie.set_cookie(response, cookie.issue(user.id))
    return response


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


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Forget the page's cookie. The CSRF token comes from the form or the header."""
    session = cookie.from_request(request)
    if session is not None:
        supplied = request.headers.get(csrf.CSRF_HEADER) or await _form_csrf_token(request)
        if not csrf.matches(session, supplied):
            raise csrf.CsrfRejected(
                "The sign-out form is out of date. Reload the page and try again."
            )
    response = RedirectResponse("/", status_code=303)
    response.headers.update(NO_STORE)
    cookie.clear_cookie(response)
    return response


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    path = STATIC_FILES.get(name)
    if path is None:
        raise NotFound("No such file.")
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"}
    )
