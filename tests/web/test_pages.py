"""The page's HTML and assets, without a browser: sign-in hint, CSP-friendly markup, labels."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, limits
from app.clock import Clock
from app.config import get_settings
from server.auth import cookie as cookies

USER = "500000000000000001"


class Markup(HTMLParser):
    """Collects what a strict Content-Security-Policy and a screen reader care about."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.module_scripts: list[str] = []
        self.style_attributes: list[str] = []
        self.handlers: list[str] = []
        self.style_blocks = 0
        self.label_targets: set[str] = set()
        self.controls: list[str] = []
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if "style" in attributes:
            self.style_attributes.append(tag)
        if tag == "script":
            if attributes.get("src"):
                self.module_scripts.append(f"{attributes.get('type')} {attributes['src']}")
            else:
                self.inline_scripts += 1
        if tag == "style":
            self.style_blocks += 1
        if tag == "label" and attributes.get("for"):
            self.label_targets.add(attributes["for"] or "")
        if tag == "input" and attributes.get("type") != "hidden":
            self.controls.append(attributes.get("id") or "<no id>")
            self.inputs[attributes.get("id") or "<no id>"] = attributes
        if attributes.get("id"):
            self.ids.add(attributes["id"] or "")
        if tag == "a" and attributes.get("id"):
            self.links[attributes["id"] or ""] = attributes.get("href") or ""
        if tag == "meta" and attributes.get("name"):
            self.meta[attributes["name"] or ""] = attributes.get("content") or ""


def parse(html: str) -> Markup:
    markup = Markup()
    markup.feed(html)
    return markup


async def signed_in(client: AsyncClient, db: AsyncSession) -> str:
    link = await accounts.create_login_link(db, USER, "Grace")
    response = await client.get(urlsplit(link).path)
    assert response.status_code == 303
    page = await client.get("/")
    assert page.status_code == 200
    return page.text


async def test_signed_out_visitors_get_a_sign_in_hint(client: AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/web" in response.text
    assert "timetrack login-link --user" in response.text
    assert "csrf-token" not in response.text
    assert parse(response.text).module_scripts == []


async def test_the_page_is_server_rendered_for_the_signed_in_user(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    html = await signed_in(client, db)
    markup = parse(html)

    assert "Grace" in html
    assert markup.meta["timetrack-timezone"] == "Australia/Sydney"
    assert re.fullmatch(r"[0-9a-f]{64}", markup.meta["csrf-token"])
    assert 'value="Europe/Berlin"' in html  # the timezone choices
    assert 'action="/api/timelogs/export.csv"' in html
    assert "Sign out" in html


async def test_the_page_offers_adding_time_history_and_the_chart(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    markup = parse(await signed_in(client, db))

    entry = markup.inputs
    assert entry["entry-day"]["type"] == "date"
    assert entry["entry-start"]["type"] == "time"
    assert entry["entry-end"]["type"] == "time"
    assert entry["entry-subject"]["list"] == "subject-options"
    # Without the module, the week's CSV links still give this week (the server's default).
    assert markup.links["history-csv-days"] == "/api/reports/summary.csv?group_by=day"
    assert markup.links["history-csv-subjects"] == "/api/reports/summary.csv?group_by=subject"
    assert {"entry-form", "chart", "chart-caption", "chart-legend", "history-days"} <= markup.ids


async def test_the_page_has_no_inline_script_or_style(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    markup = parse(await signed_in(client, db))

    assert markup.inline_scripts == 0
    assert markup.style_blocks == 0
    assert markup.style_attributes == []
    assert markup.handlers == []
    assert markup.module_scripts == ["module /static/app.js?v=0.1.0"]


async def test_every_input_has_a_label(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    markup = parse(await signed_in(client, db))

    assert markup.controls
    assert [c for c in markup.controls if c not in markup.label_targets] == []


async def test_the_page_limits_typing_as_the_domain_does(
    client: AsyncClient, db: AsyncSession, frozen: Clock
) -> None:
    inputs = parse(await signed_in(client, db)).inputs

    maxlengths = {name: at["maxlength"] for name, at in inputs.items() if "maxlength" in at}
    assert maxlengths == {
        "subject-input": str(limits.SUBJECT_MAX_LENGTH),
        "goal-input": str(limits.GOAL_MAX_LENGTH),
        "issue-input": str(limits.ISSUE_URL_MAX_LENGTH),
        "adjust-input": str(limits.DURATION_MAX_LENGTH),
        "purpose-input": str(limits.GOAL_MAX_LENGTH),
        "allocation-subject": str(limits.SUBJECT_MAX_LENGTH),
        "timezone-input": str(limits.TIMEZONE_MAX_LENGTH),
        "entry-subject": str(limits.SUBJECT_MAX_LENGTH),
        "entry-duration": str(limits.DURATION_MAX_LENGTH),
        "entry-goal": str(limits.GOAL_MAX_LENGTH),
        "team-name": str(limits.TEAM_NAME_MAX_LENGTH),
    }
    assert inputs["allocation-hours"]["max"] == str(limits.MAX_WEEKLY_HOURS)


async def test_link_github_shows_only_when_oauth_is_configured(
    client: AsyncClient, db: AsyncSession, settings_env: pytest.MonkeyPatch, frozen: Clock
) -> None:
    assert "/github/link" not in await signed_in(client, db)

    settings_env.setenv("GITHUB_CLIENT_ID", "client-id")
    get_settings.cache_clear()
    assert "/github/link" not in (await client.get("/")).text  # half an OAuth app is none

    settings_env.setenv("GITHUB_CLIENT_SECRET", "client-secret")
    get_settings.cache_clear()

    assert 'href="/github/link"' in (await client.get("/")).text


async def test_a_cookie_nobody_signed_in_with_signs_out(client: AsyncClient) -> None:
    client.cookies.set(cookies.COOKIE_NAME, "a-sign-in-we-never-made")

    response = await client.get("/")

    assert "Sign in to timetrack" in response.text
    assert f'{cookies.COOKIE_NAME}=""' in response.headers["set-cookie"]


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("app.js", "text/javascript"),
        ("api.js", "text/javascript"),
        ("timer.js", "text/javascript"),
        ("format.js", "text/javascript"),
        ("week.js", "text/javascript"),
        ("sessions.js", "text/javascript"),
        ("dom.js", "text/javascript"),
        ("status.js", "text/javascript"),
        ("calendar.js", "text/javascript"),
        ("entry.js", "text/javascript"),
        ("history.js", "text/javascript"),
        ("chart.js", "text/javascript"),
        ("style.css", "text/css"),
    ],
)
async def test_assets_are_served_with_their_types(
    client: AsyncClient, name: str, media_type: str
) -> None:
    response = await client.get(f"/static/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


@pytest.mark.parametrize("name", ["missing.js", "..%2Fcookies.py", "router.py", "%00"])
async def test_only_known_assets_are_served(client: AsyncClient, name: str) -> None:
    response = await client.get(f"/static/{name}")

    assert response.status_code == 404


async def test_the_modules_import_only_each_other() -> None:
    from server.web.router import STATIC_FILES

    for name, path in STATIC_FILES.items():
        if name.endswith(".js"):
            for imported in re.findall(r'from "([^"]+)"', path.read_text()):
                assert imported.startswith("./") and imported[2:] in STATIC_FILES, (name, imported)


async def test_page_routes_stay_out_of_the_api_schema(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert not any(path in paths for path in ("/", "/login/{token}", "/logout"))
    assert not any(path.startswith("/static") for path in paths)
