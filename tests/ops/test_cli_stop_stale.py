"""`timetrack stop-stale [--hours H] [--dry-run]`, run as an operator runs it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.clock import clock
from server.cli import cli
from tests.ops.conftest import fresh_user_id, hours_ago, run_timetrack, session_started_at


async def statuses(committed: async_sessionmaker[AsyncSession]) -> dict[int, tuple[str, Any]]:
    async with committed() as db:
        rows = (await db.execute(text("SELECT id, status, stop_reason FROM sessions"))).all()
    return {row.id: (row.status, row.stop_reason) for row in rows}


async def seed(committed: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    # The child process reads the real clock, so the rows sit well clear of the thresholds.
    now = clock.now()
    async with committed() as db, db.begin():
        day_old = await session_started_at(db, fresh_user_id(), hours_ago(now, 30))
        two_hours = await session_started_at(
            db, fresh_user_id(), hours_ago(now, 2), subject="Physics"
        )
        fresh = await session_started_at(db, fresh_user_id(), hours_ago(now, 0.25))
    return day_old.id, two_hours.id, fresh.id


async def test_dry_run_lists_without_changing_anything(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    day_old, two_hours, _ = await seed(committed)

    result = run_timetrack(
        "stop-stale", "--hours", "1.5", "--dry-run", env={"DATABASE_URL": database_url}
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"session {day_old}: ")
    assert lines[1].startswith(f"session {two_hours}: ")
    assert "Physics" in lines[1]
    assert lines[-1] == "Would stop 2 stale sessions (dry run: nothing changed)."
    assert {status for status, _ in (await statuses(committed)).values()} == {"RUNNING"}


async def test_stops_sessions_past_a_fractional_threshold_and_counts_them(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    day_old, two_hours, fresh = await seed(committed)

    result = run_timetrack("stop-stale", "--hours", "1.5", env={"DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"session {day_old}",
        f"session {two_hours}",
    ]
    assert lines[-1] == "Stopped 2 stale sessions (open more than 1.5 h)."
    assert await statuses(committed) == {
        day_old: ("ENDED_UNCONFIRMED", "stale"),
        two_hours: ("ENDED_UNCONFIRMED", "stale"),
        fresh: ("RUNNING", None),
    }


async def test_the_default_threshold_is_the_setting(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    day_old, _, _ = await seed(committed)

    result = run_timetrack(
        "stop-stale", env={"DATABASE_URL": database_url, "TIMETRACK_STALE_HOURS": "24"}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Stopped 1 stale session (open more than 24 h)."
    assert (await statuses(committed))[day_old] == ("ENDED_UNCONFIRMED", "stale")


@pytest.mark.parametrize("hours", ["0", "-2", "nan", "inf", "soon"])
def test_a_bad_threshold_is_a_one_line_usage_error(hours: str) -> None:
    # Refused before any database work, so in-process is enough (and fast).
    result = CliRunner().invoke(cli, ["stop-stale", "--hours", hours])

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "--hours" in result.stderr
    assert "Traceback" not in result.stderr


class FakeDiscord(BaseHTTPRequestHandler):
    """Discord's two DM endpoints, recording what they were sent."""

    received: list[tuple[str, str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, self.headers.get("Authorization", ""), body))
        answer = {"id": "4000000000000000001"} if self.path.endswith("/channels") else {"id": "9"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_discord() -> Iterator[tuple[str, list[tuple[str, str, dict[str, Any]]]]]:
    received: list[tuple[str, str, dict[str, Any]]] = []
    handler = type("Recorder", (FakeDiscord,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v10", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_owners_are_told_by_dm_through_the_same_glue_as_the_cron(
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
    fake_discord: tuple[str, list[tuple[str, str, dict[str, Any]]]],
) -> None:
    api_base, received = fake_discord
    owner = "2100000000000000001"
    async with committed() as db, db.begin():
        session = await session_started_at(db, owner, hours_ago(clock.now(), 30))

    result = run_timetrack(
        "stop-stale",
        env={
            "DATABASE_URL": database_url,
            "DISCORD_BOT_TOKEN": "bot-token-for-the-cli",
            "DISCORD_API_BASE": api_base,
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "Stopped 1 stale session (open more than 24 h)."
    assert "1 DMs sent" in result.stderr
    assert [(path, auth) for path, auth, _ in received] == [
        ("/api/v10/users/@me/channels", "Bot bot-token-for-the-cli"),
        ("/api/v10/channels/4000000000000000001/messages", "Bot bot-token-for-the-cli"),
    ]
    assert received[0][2] == {"recipient_id": owner}
    card = received[1][2]
    assert card["embeds"][0]["footer"]["text"] == f"Session {session.id}"
    assert "24 hours" in card["content"]
