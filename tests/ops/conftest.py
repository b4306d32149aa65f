"""Helpers for the operations tests: committed rows at chosen times, the CLI, a dead database."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import accounts, events
from app import session as sessions
from app.clock import clock
from app.config import get_settings
from app.db import database
from app.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    Session,
    SessionSource,
)
from tests.inbox import Inbox, discord_inbox

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 1: connecting fails at once, as with a database that is down.
REFUSING_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
CRON_SECRET = "cron-secret-for-tests-0123456789"

_ids = itertools.count(1)


def fresh_user_id(prefix: str = "ops") -> str:
    return f"{prefix}-{os.getpid()}-{next(_ids)}"


async def session_started_at(
    db: AsyncSession,
    user_id: str,
    started_at: datetime,
    *,
    subject: str = "Maths",
    paused_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> Session:
    """A session clocked in at `started_at` (and paused or clocked out later), via the domain.

    The clock is moved for each step and put back where it was, frozen or not.
    """
    was = clock.now() if clock.is_frozen else None
    try:
        clock.freeze(started_at)
        session = await sessions.clock_in(db, user_id, subject, source=SessionSource.API)
        if paused_at is not None:
            clock.freeze(paused_at)
            session = (await sessions.pause(db, user_id, session.id)).session
        if ended_at is not None:
            clock.freeze(ended_at)
            session = (await sessions.clock_out(db, user_id, session.id)).session
    finally:
        if was is None:
            clock.unfreeze()
        else:
            clock.freeze(was)
    return session


async def delivery_at(
    db: AsyncSession, at: datetime, *, succeeded: bool, kind: str = events.GITHUB_DELIVERY
) -> None:
    was = clock.now() if clock.is_frozen else None
    try:
        clock.freeze(at)
        status = 200 if succeeded else 500
        answer = events.Answer({}, status_code=status, succeeded=succeeded)
        await events.record(db, kind, fresh_user_id("delivery"), answer)
    finally:
        if was is None:
            clock.unfreeze()
        else:
            clock.freeze(was)


async def notification_at(
    db: AsyncSession, user_id: str, at: datetime, status: NotificationStatus, attempts: int = 1
) -> None:
    """A scheduled message whose last change was at `at`, in `status`."""
    await accounts.ensure_user(db, user_id)
    db.add(
        Notification(
            user_id=user_id,
            kind=NotificationKind.REMINDER,
            key=fresh_user_id("key"),
            message={"content": "x"},
            status=status,
            attempts=attempts,
            created_at=at,
            updated_at=at,
        )
    )
    await db.flush()


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)


@pytest_asyncio.fixture(loop_scope="session")
async def unreachable_database(
    engine: AsyncEngine, database_url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Point the app's database at a port nobody listens on; put the test one back after.

    The very engine and sessionmaker the session-scoped fixtures handed out are restored,
    so later tests keep their pool and never see the dead URL.
    """
    saved_engine, saved_sessions = database._engine, database._sessions
    database.configure(REFUSING_URL)
    try:
        yield database.sessions
    finally:
        try:
            await database.dispose()
        finally:
            database._engine, database._sessions = saved_engine, saved_sessions
    assert database.engine is engine


def bearer(secret: str = CRON_SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest_asyncio.fixture(loop_scope="session")
async def real_client(engine: object) -> AsyncIterator[AsyncClient]:
    """The app with its own transactions (no test override): commits are real."""
    from server.router import app

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://ops") as http:
        yield http


@pytest.fixture
def inbox(settings_env: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A bot token, and Discord's DM endpoints faked: what each user was sent."""
    with discord_inbox(settings_env) as faked:
        yield faked


@pytest.fixture
def cron_secret(settings_env: pytest.MonkeyPatch) -> str:
    settings_env.setenv("CRON_SECRET", CRON_SECRET)
    get_settings.cache_clear()
    return CRON_SECRET


def run_timetrack(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m app ...` in a child process, as an operator would run it."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def anywhere(tmp_path: Path) -> Iterator[Path]:
    """An empty directory for a data dir that must never be created."""
    yield tmp_path / "never-created"
