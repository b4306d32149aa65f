"""Shared fixtures: a migrated PostgreSQL, per-test rolled-back transactions, the ASGI app.

The database is the embedded server (in TIMETRACK_DATA_DIR) or the server of
DATABASE_URL; either way the run gets a fresh database of its own, migrated once with
Alembic and dropped at the end.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import psycopg
import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app import migrate
from app.clock import Clock, clock
from app.config import get_settings
from app.db import database, ensure_database, libpq_url, resolve_database_url, unit_of_work
from server.transaction import get_db

# A Wednesday, well away from any DST change in Sydney.
FROZEN_AT = datetime(2026, 11, 18, 1, 0, 0, tzinfo=UTC)
TABLES = (
    "team_posts, team_invites, team_members, teams, notifications, switch_offers,"
    " processed_events, login_links, sign_ins, api_tokens, sessions, weekly_allocations,"
    " subjects, users, auth_failures, webhook_secrets"
)


def _test_database_url() -> str:
    server_url = resolve_database_url()
    name = f"timetrack_test_{os.getpid()}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {}").format(psycopg.sql.Identifier(name))
        )
    return ensure_database(server_url, name)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    os.environ.setdefault("TIMETRACK_ENV", "test")
    # Servers started by tests (in process or as `timetrack serve`) must not tick by
    # themselves: tests run scheduled work when they mean to.
    os.environ.setdefault("TIMETRACK_TICK_SECONDS", "0")
    get_settings.cache_clear()
    url = _test_database_url()
    migrate.upgrade(url)
    yield url
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(make_url(url).database or "")
            )
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    database.configure(database_url)
    yield database.engine
    await database.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        if transaction.is_active:
            await transaction.rollback()


@pytest_asyncio.fixture(loop_scope="session")
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session inside the test's transaction; its commits become savepoints."""
    session = AsyncSession(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    yield session
    await session.close()


@pytest_asyncio.fixture(loop_scope="session")
async def committed(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real, committed transactions (for concurrency and live-server tests); wiped after."""
    yield database.sessions
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
def frozen() -> Iterator[Clock]:
    clock.freeze(FROZEN_AT)
    yield clock
    clock.unfreeze()


@pytest_asyncio.fixture(loop_scope="session")
async def client(db: AsyncSession) -> AsyncIterator[AsyncClient]:
    """The ASGI app over real HTTP semantics, with requests joined to the test transaction."""
    from server.router import app

    async def test_db() -> AsyncIterator[AsyncSession]:
        async with unit_of_work(db):
            yield db

    app.dependency_overrides[get_db] = test_db
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
    app.dependency_overrides.pop(get_db, None)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set environment variables for one test; settings are re-read before and after."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()
