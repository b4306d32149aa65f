"""`GET|POST /api/cron/tick` over HTTP on the real clock, and `timetrack tick`: the secret,
the counts, and one tick doing all scheduled work."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, entries, summaries
from app.clock import clock
from app.config import get_settings
from app.db import transaction
from app.models import Session
from app.weeks import week_start_for
from tests.inbox import Inbox, button_ids
from tests.ops.conftest import (
    CRON_SECRET,
    bearer,
    fresh_user_id,
    hours_ago,
    run_timetrack,
    session_started_at,
)

PATH = "/api/cron/tick"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unset_secret_turns_the_tick_off(
    real_client: AsyncClient, settings_env: pytest.MonkeyPatch, method: str
) -> None:
    settings_env.delenv("CRON_SECRET", raising=False)
    get_settings.cache_clear()

    response = await real_client.request(method, PATH, headers=bearer())

    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Token {CRON_SECRET}"}],
    ids=["none", "wrong", "scheme"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_without_the_secret_the_tick_is_401_and_does_nothing(
    real_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    cron_secret: str,
    headers: dict[str, str],
    method: str,
) -> None:
    async with committed() as db, db.begin():
        session = await session_started_at(db, fresh_user_id(), hours_ago(clock.now(), 30))

    response = await real_client.request(method, PATH, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    async with committed() as db:
        stored = await db.get(Session, session.id)
    assert stored is not None
    assert stored.status == "RUNNING"


async def test_an_idle_tick_reports_nothing_done(
    real_client: AsyncClient, committed: async_sessionmaker[AsyncSession], cron_secret: str
) -> None:
    for method in ("GET", "POST"):
        response = await real_client.request(method, PATH, headers=bearer())
        assert response.status_code == 200
        assert response.json() == {"reminded": 0, "summaries": 0, "stopped": 0, "team_posts": 0}


async def test_one_tick_reminds_summarises_and_sweeps(
    real_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    cron_secret: str,
    inbox: Inbox,
) -> None:
    now = clock.now()
    long_running, stale, summarised = fresh_user_id(), fresh_user_id(), fresh_user_id()
    # A timezone where last week's summary is due now, whenever this runs: where it is not
    # yet 08:00 on Monday.
    zone = "UTC"
    if now.weekday() == 0 and now.hour < 8:
        zone = "Asia/Tokyo"  # nine hours on: Monday 09:00 to 17:00
    this_week = week_start_for(zone, now)
    async with transaction() as db:
        for user in (long_running, stale):
            await summaries.set_weekly_summary(db, user, False)
        running = await session_started_at(db, long_running, hours_ago(now, 3))
        await session_started_at(db, stale, hours_ago(now, 30))
        await accounts.set_timezone(db, summarised, zone)
        wednesday = datetime.combine(this_week - timedelta(days=5), time(12), ZoneInfo(zone))
        await entries.add(db, summarised, "Thesis", wednesday, wednesday + timedelta(hours=1))
    monday = this_week - timedelta(days=7)

    response = await real_client.get(PATH, headers=bearer())

    assert response.status_code == 200
    assert response.json() == {"reminded": 1, "summaries": 1, "stopped": 1, "team_posts": 0}
    [reminder] = inbox.to(long_running)
    assert f"snooze:{running.id}" in button_ids(reminder)
    [summary] = inbox.to(summarised)
    assert summary["embeds"][0]["title"] == f"Your week of {monday:%a %d %b %Y}"
    [swept] = inbox.to(stale)
    assert "I clocked you out" in swept["content"]

    again = await real_client.post(PATH, headers=bearer())
    assert again.json() == {"reminded": 0, "summaries": 0, "stopped": 0, "team_posts": 0}
    assert len(inbox.delivered) == 3


async def test_stop_stale_still_sweeps_alone(
    real_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    cron_secret: str,
    inbox: Inbox,
) -> None:
    now = clock.now()
    async with committed() as db, db.begin():
        await session_started_at(db, fresh_user_id(), hours_ago(now, 3))
        stale = await session_started_at(db, fresh_user_id(), hours_ago(now, 30))

    response = await real_client.get("/api/cron/stop-stale", headers=bearer())

    assert response.json() == {"stopped": 1, "session_ids": [stale.id]}
    assert len(inbox.delivered) == 1  # the sweep's card; no reminder


async def test_the_command_line_runs_one_tick(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    now = clock.now()
    async with committed() as db, db.begin():
        await session_started_at(db, fresh_user_id(), hours_ago(now, 48))

    # No bot token in the child: the sweep runs, and reminders wait.
    result = run_timetrack("tick", env={"DATABASE_URL": database_url, "DISCORD_BOT_TOKEN": ""})

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "reminded": 0,
        "summaries": 0,
        "stopped": 1,
        "team_posts": 0,
    }
