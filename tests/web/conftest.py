"""A live server (`tests.live`) and a real Chromium for the page's browser tests.

Data is committed for real and wiped after each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app.config import get_settings
from tests.live import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
USER_ID = "400000000000000001"


@dataclass(frozen=True)
class Live:
    url: str
    sessions: async_sessionmaker[AsyncSession]

    async def login_link(self, user_id: str = USER_ID) -> str:
        async with self.sessions() as db, db.begin():
            return await accounts.create_login_link(db, user_id, "Ada")

    async def token(self, user_id: str = USER_ID) -> str:
        async with self.sessions() as db, db.begin():
            _, plain = await accounts.create_api_token(db, user_id, "browser tests")
            return plain


async def sign_in(page: Any, live: Live) -> None:
    from playwright.async_api import expect

    await page.goto(await live.login_link())
    await expect(page).to_have_url(f"{live.url}/")
    await expect(page.get_by_role("heading", name="Timer")).to_be_visible()


async def rest(live: Live, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Token {await live.token()}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers) as http:
        return await http.request(method, path, **kwargs)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; install Debian's chromium to run browser tests")
    return CHROMIUM


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS


@pytest_asyncio.fixture(loop_scope="session")
async def live(
    committed: async_sessionmaker[AsyncSession], settings_env: pytest.MonkeyPatch
) -> AsyncIterator[Live]:
    from server.router import app

    async with serving(app) as url:
        settings_env.setenv("TIMETRACK_BASE_URL", url)
        get_settings.cache_clear()
        yield Live(url=url, sessions=committed)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser_context(
    chromium: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    """One Chromium for the run, on a fresh profile; each test gets its own tab."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser_context: Any) -> AsyncIterator[Any]:
    """A new tab, signed out, that fails the test on any console error or uncaught exception.

    The app's Content-Security-Policy applies, so a violation shows up here as an error.
    """
    await browser_context.clear_cookies()
    tab = await browser_context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # The browser logs every 4xx fetch as an error; those answers are expected in tests.
    expected = "the server responded with a status of 4"
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and expected not in message.text
            else None
        ),
    )
    yield tab
    await tab.close()
    assert not problems, problems
