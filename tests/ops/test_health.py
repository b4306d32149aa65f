"""`/api/health` and `timetrack health`: the database, sessions, webhook deliveries, version."""

from __future__ import annotations

import json

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import app as package
from app.clock import Clock
from app.config import get_settings
from app.events import DISCORD_INTERACTION
from app.models import NotificationStatus
from server.router import app
from tests.ops.conftest import (
    delivery_at,
    fresh_user_id,
    hours_ago,
    notification_at,
    run_timetrack,
    session_started_at,
)


async def get_health() -> tuple[int, dict[str, object]]:
    # The health route opens its own session (it must report a dead database itself), so
    # it sees committed rows only: these tests commit through `committed`.
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://ops") as http:
        response = await http.get("/api/health")
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


async def seed(sessions_factory: async_sessionmaker[AsyncSession], frozen: Clock) -> None:
    """Two active sessions past 24 h, one active and fresh, one ended; deliveries."""
    now = frozen.now()
    async with sessions_factory() as db, db.begin():
        await session_started_at(db, fresh_user_id(), hours_ago(now, 30))
        await session_started_at(
            db, fresh_user_id(), hours_ago(now, 25), paused_at=hours_ago(now, 24.5)
        )
        await session_started_at(db, fresh_user_id(), hours_ago(now, 2))
        await session_started_at(
            db, fresh_user_id(), hours_ago(now, 40), ended_at=hours_ago(now, 39)
        )
        # Last 24 h: three deliveries, two succeeded. Older ones and other kinds don't count.
        await delivery_at(db, hours_ago(now, 1), succeeded=True)
        await delivery_at(db, hours_ago(now, 23.9), succeeded=True)
        await delivery_at(db, hours_ago(now, 5), succeeded=False)
        await delivery_at(db, hours_ago(now, 24.1), succeeded=False)
        await delivery_at(db, hours_ago(now, 1), succeeded=False, kind=DISCORD_INTERACTION)
        # Scheduled messages settled in the last 24 h: two sent, one waiting for another
        # attempt, one given up. One given up earlier, and one being sent, don't count.
        user = fresh_user_id()
        for hours, status in (
            (1, NotificationStatus.SENT),
            (23.9, NotificationStatus.SENT),
            (2, NotificationStatus.PENDING),
            (3, NotificationStatus.FAILED),
            (24.1, NotificationStatus.FAILED),
            (0, NotificationStatus.SENDING),
        ):
            await notification_at(db, user, hours_ago(now, hours), status)


async def test_health_counts_active_and_stale_sessions_and_recent_deliveries(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    await seed(committed, frozen)

    status, body = await get_health()

    assert status == 200
    assert body == {
        "status": "ok",
        "database": "ok",
        "version": package.__version__,
        "active_sessions": 3,
        "stale_sessions": 2,
        "stale_after_hours": 24,
        "webhooks_24h": {"deliveries": 3, "succeeded": 2, "success_rate": 0.6667},
        "notifications_24h": {"sent": 2, "retrying": 1, "failed": 1},
    }


async def test_stale_threshold_follows_the_setting_and_may_be_fractional(
    committed: async_sessionmaker[AsyncSession],
    frozen: Clock,
    settings_env: pytest.MonkeyPatch,
) -> None:
    await seed(committed, frozen)
    settings_env.setenv("TIMETRACK_STALE_HOURS", "1.5")
    get_settings.cache_clear()

    _, body = await get_health()
    assert body["stale_after_hours"] == 1.5
    assert body["stale_sessions"] == 3

    settings_env.setenv("TIMETRACK_STALE_HOURS", "100")
    get_settings.cache_clear()
    _, body = await get_health()
    assert body["stale_sessions"] == 0
    assert body["active_sessions"] == 3


async def test_a_session_is_stale_only_once_strictly_past_the_threshold(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    now = frozen.now()
    async with committed() as db, db.begin():
        await session_started_at(db, fresh_user_id(), hours_ago(now, 24))

    _, body = await get_health()
    assert (body["active_sessions"], body["stale_sessions"]) == (1, 0)

    frozen.advance(1)
    _, body = await get_health()
    assert (body["active_sessions"], body["stale_sessions"]) == (1, 1)


async def test_no_deliveries_means_no_rate_rather_than_zero(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    status, body = await get_health()

    assert status == 200
    assert body["active_sessions"] == 0
    assert body["webhooks_24h"] == {"deliveries": 0, "succeeded": 0, "success_rate": None}
    assert body["notifications_24h"] == {"sent": 0, "retrying": 0, "failed": 0}


async def test_health_is_503_json_when_the_database_is_down(
    unreachable_database: object,
) -> None:
    status, body = await get_health()

    assert status == 503
    assert body == {
        "status": "unavailable",
        "database": "unavailable",
        "version": package.__version__,
    }


async def test_the_test_database_answers_again_after_an_outage_test(engine: object) -> None:
    # Runs after the outage test above: the fixture must have put the real engine back.
    status, body = await get_health()
    assert status == 200
    assert body["database"] == "ok"


async def test_cli_health_prints_the_same_report_as_the_endpoint(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    # The child process runs on the real clock, so these rows are placed far enough either
    # side of the threshold for both readings to agree.
    from app.clock import clock

    now = clock.now()
    async with committed() as db, db.begin():
        await session_started_at(db, fresh_user_id(), hours_ago(now, 48))
        await session_started_at(db, fresh_user_id(), hours_ago(now, 1))
        await delivery_at(db, hours_ago(now, 2), succeeded=True)

    result = run_timetrack("health", env={"DATABASE_URL": database_url})
    status, body = await get_health()

    assert result.returncode == 0, result.stderr
    assert status == 200
    assert json.loads(result.stdout) == body
    assert (body["active_sessions"], body["stale_sessions"]) == (2, 1)
    assert body["webhooks_24h"] == {"deliveries": 1, "succeeded": 1, "success_rate": 1.0}


def test_cli_health_reports_a_dead_database_with_exit_1() -> None:
    from tests.ops.conftest import REFUSING_URL

    result = run_timetrack("health", env={"DATABASE_URL": REFUSING_URL})

    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "status": "unavailable",
        "database": "unavailable",
        "version": package.__version__,
    }
    assert "Traceback" not in result.stderr
