"""Fixtures for the Discord endpoint: a signing key, settings, and a signed client.

The endpoint owns its transactions (it may outlive the request when deferred), so these
tests run on the real sessionmaker with committed data (`committed`), wiped after each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.config import get_settings
from app.models import Session
from server.integrations.discord import deferral
from tests.discord.support import API_BASE, APP_ID, Discord, Signer


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer(SigningKey.generate())


@pytest.fixture
def discord_env(settings_env: pytest.MonkeyPatch, signer: Signer) -> Iterator[pytest.MonkeyPatch]:
    settings_env.setenv("DISCORD_PUBLIC_KEY", signer.public_hex)
    settings_env.setenv("DISCORD_APPLICATION_ID", APP_ID)
    settings_env.setenv("DISCORD_API_BASE", API_BASE)
    settings_env.delenv("DISCORD_BOT_TOKEN", raising=False)
    settings_env.delenv("GITHUB_CLIENT_ID", raising=False)
    settings_env.delenv("GITHUB_CLIENT_SECRET", raising=False)
    get_settings.cache_clear()
    # Behaviour must not hinge on how busy the machine is: only the deadline tests (which
    # hold a call on purpose) and the outage tests use a real deadline.
    settings_env.setattr(deferral, "DEADLINE_SECONDS", 30.0)
    yield settings_env


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[AsyncClient]:
    from server.router import app

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest_asyncio.fixture(loop_scope="session")
async def discord(
    discord_env: pytest.MonkeyPatch,
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
    http: AsyncClient,
    signer: Signer,
) -> AsyncIterator[Discord]:
    yield Discord(http, signer)
    # Follow-ups still running must finish before the tables are wiped.
    await deferral.drain()


@pytest_asyncio.fixture(loop_scope="session")
async def sessions_of(
    committed: async_sessionmaker[AsyncSession],
) -> Any:
    """`await sessions_of(user_id)`: that user's sessions as stored, oldest first."""

    async def read(user_id: str) -> list[Session]:
        async with committed() as db:
            rows = await db.execute(
                select(Session).where(Session.user_id == user_id).order_by(Session.id)
            )
            return list(rows.scalars())

    return read
