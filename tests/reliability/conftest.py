"""Fixtures for the reliability tests: the real app over ASGI, real commits, signed requests.

Nothing here overrides `get_db`: requests run their own transactions on the real engine,
as in production. Discord payloads and the spec check come from the Discord tests' support
module, so both suites send the same shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from nacl.signing import SigningKey

from app.config import get_settings
from server.dependencies import get_db
from server.discord import deferral
from tests.discord.support import API_BASE, APP_ID, Signer


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer(SigningKey.generate())


@pytest.fixture
def discord_env(settings_env: pytest.MonkeyPatch, signer: Signer) -> Iterator[pytest.MonkeyPatch]:
    """Discord configured with the test key; follow-ups and OAuth off."""
    settings_env.setenv("DISCORD_PUBLIC_KEY", signer.public_hex)
    settings_env.setenv("DISCORD_APPLICATION_ID", APP_ID)
    settings_env.setenv("DISCORD_API_BASE", API_BASE)
    for name in ("DISCORD_BOT_TOKEN", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"):
        settings_env.delenv(name, raising=False)
    get_settings.cache_clear()
    # What is asserted must not depend on how busy the machine is: no answer is deferred.
    settings_env.setattr(deferral, "DEADLINE_SECONDS", 60.0)
    yield settings_env


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[AsyncClient]:
    from server.router import app

    assert get_db not in app.dependency_overrides, "reliability tests use real transactions"
    # Answer as a real server does: Starlette sends the error handler's response for an
    # unhandled exception (a database outage is a 503) and only then re-raises it, for the
    # server to log; the client must see the response, not the exception.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    # Answers that were deferred anyway must finish before the tables are wiped.
    await deferral.drain()
