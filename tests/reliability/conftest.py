"""Fixtures for the reliability tests: the real app over ASGI, real commits, signed requests.

Nothing here overrides `get_db`: requests run their own transactions on the real engine,
as in production. Discord payloads and the spec check come from the Discord tests' support
module, so both suites send the same shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from httpx import ASGITransport, AsyncClient

from server.integrations.discord import deferral
from server.transaction import get_db

# The Discord suite's signing key and settings serve these tests too.
from tests.discord.conftest import discord_env, signer  # noqa: F401


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[AsyncClient]:
    from server.router import app

    assert get_db not in app.dependency_overrides, "reliability tests use real transactions"
    # Answer as a real server does: for an unexpected error Starlette sends the 500 response
    # and only then re-raises, for the server to log; the client must see the response.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    # Answers that were deferred anyway must finish before the tables are wiped.
    await deferral.drain()
