"""Security headers on every response, a strict CSP the page can live with, Secure cookies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.config import get_settings
from server.security import CONTENT_SECURITY_POLICY, policy_for
from server.web.router import STATIC_DIR

USER = "1400000000000000099"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_secured(response: Response) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_the_policy_allows_no_inline_or_foreign_code() -> None:
    policy = directives(CONTENT_SECURITY_POLICY)

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


@pytest_asyncio.fixture(loop_scope="session")
async def signed_in(client: AsyncClient, db: AsyncSession) -> AsyncIterator[AsyncClient]:
    url = await accounts.create_login_link(db, USER)
    response = await client.get(url.removeprefix(get_settings().base_url))
    assert response.status_code == 303
    yield client


async def test_the_signed_in_page_is_secured(signed_in: AsyncClient) -> None:
    response = await signed_in.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'name="csrf-token"' in response.text  # the real page, not the sign-in hint
    assert_secured(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),  # the sign-in hint
        ("GET", "/login/not-a-real-token"),  # an HTML error page
        ("GET", "/api/health"),
        ("GET", "/api/timelogs/"),  # 401 JSON
        ("GET", "/no/such/page"),  # 404 JSON
        ("POST", "/api/discord"),  # 401 or 503, before anything is read
        ("GET", "/static/app.js"),
    ],
)
async def test_every_response_carries_the_headers(
    client: AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert_secured(response)


async def test_html_pages_use_no_inline_script_or_style(
    client: AsyncClient, signed_in: AsyncClient
) -> None:
    """What the policy forbids, the page must not need: a blocked inline script fails
    silently in the browser, so check the markup itself."""
    pages = [(await signed_in.get("/")).text]
    signed_in.cookies.clear()
    pages.append((await client.get("/")).text)
    pages.append((await client.get("/login/not-a-real-token")).text)
    assets = [path.read_text() for path in STATIC_DIR.glob("*.js")]

    for html in pages:
        for script in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I):
            attributes, body = script
            assert "src=" in attributes and not body.strip(), script
        assert not re.search(r"<style\b", html, re.I)
        assert not re.search(r"\sstyle\s*=", html, re.I)
        assert not re.search(r"\son[a-z]+\s*=", html, re.I)
        assert "javascript:" not in html.lower()
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#", "https://github.com")), url
    for source in assets:
        # Code built from strings would need 'unsafe-eval'.
        assert "eval(" not in source and "new Function(" not in source


async def test_hsts_only_when_the_public_url_is_https(
    client: AsyncClient, settings_env: pytest.MonkeyPatch
) -> None:
    assert "strict-transport-security" not in (await client.get("/api/health")).headers

    settings_env.setenv("TIMETRACK_BASE_URL", "https://tt.example")
    get_settings.cache_clear()
    response = await client.get("/api/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_the_interactive_docs_get_a_policy_of_their_own() -> None:
    docs = directives(policy_for("/docs"))

    assert "'unsafe-inline'" in docs["script-src"]  # Swagger UI's bootstrap script
    assert docs["frame-ancestors"] == ["'none'"]
    assert policy_for("/") == policy_for("/api/docs-like") == CONTENT_SECURITY_POLICY


async def test_a_route_may_set_its_own_header(client: AsyncClient) -> None:
    # /login/... failures set Referrer-Policy themselves; the middleware keeps theirs.
    response = await client.get("/login/not-a-real-token")
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]


# --- the sign-in cookie ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [("https://tt.example", True), ("http://127.0.0.1:8000", False)],
)
async def test_the_cookie_is_secure_exactly_when_the_site_is_https(
    client: AsyncClient,
    db: AsyncSession,
    settings_env: pytest.MonkeyPatch,
    base_url: str,
    secure: bool,
) -> None:
    settings_env.setenv("TIMETRACK_BASE_URL", base_url)
    get_settings.cache_clear()
    url = await accounts.create_login_link(db, USER)

    response = await client.get(url.removeprefix(base_url))

    assert response.status_code == 303
    [cookie] = response.headers.get_list("set-cookie")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert ("secure" in attributes) is secure
    assert "httponly" in attributes
    assert re.search(r";\s*samesite=(lax|strict)", cookie, re.I)
    assert re.search(r";\s*path=/(;|$)", cookie, re.I)
