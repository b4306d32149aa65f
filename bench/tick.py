"""How long one tick of scheduled work takes with 10,000 users, of whom 100 are due: 50
reminders and 50 weekly summaries (and, for comparison, a tick with nothing due).

Writes the users, their subjects, a running session each and a week of history with
INSERT ... SELECT generate_series into a throwaway database, then runs the tick in
process, putting the 100 back to "due" before each round. Discord is not measured: its
DM call is replaced by one that succeeds at once. It prints figures; it never fails on
timing.

    python -m bench.tick [--users 10000] [--due 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text

from app.clock import clock
from app.config import get_settings
from app.db import database
from bench.common import scratch_database
from server.cron.tick import tick
from server.integrations.discord.client import DiscordClient

# Every user in UTC, a subject each, a running session started an hour ago (so its
# reminder is an hour ahead), and thirty ended sessions over the last two weeks (so last
# week has some, whatever the day). The summary of each user is due three days from now.
SEED = [
    """
    INSERT INTO users (id, username, timezone, next_summary_at)
    SELECT 'bench-' || i, 'user ' || i, 'UTC', :now + interval '3 days'
    FROM generate_series(1, :users) AS i
    """,
    """
    INSERT INTO subjects (user_id, name)
    SELECT 'bench-' || i, 'Thesis' FROM generate_series(1, :users) AS i
    """,
    """
    INSERT INTO sessions (user_id, subject_id, started_at, status, source, remind_at,
                          created_at, updated_at)
    SELECT s.user_id, s.id, :now - interval '1 hour', 'RUNNING', 'discord',
           :now + interval '1 hour', :now, :now
    FROM subjects AS s
    """,
    """
    INSERT INTO sessions (user_id, subject_id, started_at, ended_at, status, source,
                          created_at, updated_at)
    SELECT s.user_id, s.id, :now - interval '14 days' + n * interval '11 hours',
           :now - interval '14 days' + n * interval '11 hours' + interval '1 hour',
           'ENDED_CONFIRMED', 'discord', :now, :now
    FROM subjects AS s, generate_series(1, 30) AS n
    """,
]

# Before each round: the first `half` users' reminders, and the next `half` users'
# summaries, fall due again; what earlier rounds recorded is forgotten.
DUE_AGAIN = [
    "DELETE FROM notifications",
    """
    UPDATE sessions SET remind_at = :now - interval '1 minute'
    WHERE status = 'RUNNING' AND user_id IN (
        SELECT 'bench-' || i FROM generate_series(1, :half) AS i)
    """,
    """
    UPDATE users SET next_summary_at = :now - interval '1 minute'
    WHERE id IN (SELECT 'bench-' || i FROM generate_series(:half + 1, 2 * :half) AS i)
    """,
]

WEDNESDAY = datetime(2026, 11, 18, 12, tzinfo=UTC)

PLANS = {
    "reminders due": (
        "SELECT user_id FROM sessions WHERE status IN ('RUNNING', 'PAUSED')"
        " AND remind_at IS NOT NULL AND remind_at <= :now ORDER BY remind_at LIMIT 200"
    ),
    "summaries due": (
        "SELECT id FROM users WHERE weekly_summary"
        " AND coalesce(next_summary_at, '-infinity'::timestamptz) <= :now"
        " ORDER BY coalesce(next_summary_at, '-infinity'::timestamptz) LIMIT 200"
    ),
}


async def _execute(statements: list[str], parameters: dict[str, Any]) -> None:
    async with database.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement), parameters)


async def _plans(now: Any) -> dict[str, str]:
    found = {}
    async with database.engine.connect() as conn:
        for name, query in PLANS.items():
            rows = await conn.execute(text(f"EXPLAIN {query}"), {"now": now})
            lines = [row[0].strip() for row in rows]
            found[name] = next((line for line in lines if "Index" in line), lines[0])
    return found


async def _timed_tick() -> tuple[float, Any]:
    started = time.perf_counter()
    ticked = await tick()
    return time.perf_counter() - started, ticked


async def _run(url: str, users: int, due: int, rounds: int) -> dict[str, Any]:
    database.configure(url)
    statements: list[str] = []
    # A Wednesday: last week's summary is due for everyone (in UTC) whose turn it is.
    clock.freeze(WEDNESDAY)
    try:
        now = clock.now()
        started = time.perf_counter()
        await _execute(SEED, {"now": now, "users": users})
        async with database.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
        print(f"wrote {users:,} users in {time.perf_counter() - started:.1f} s", flush=True)
        event.listen(
            database.engine.sync_engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        await tick()  # warms the pool and the statement caches
        timings, counted, idle = [], [], []
        for _ in range(rounds):
            await _execute(DUE_AGAIN, {"now": clock.now(), "half": due // 2})
            statements.clear()
            elapsed, ticked = await _timed_tick()
            counted.append(len(statements))
            timings.append(elapsed)
            assert (ticked.reminded, ticked.summaries) == (due // 2, due // 2), ticked
            idle.append((await _timed_tick())[0])
        plans = await _plans(clock.now())
    finally:
        clock.unfreeze()
        await database.dispose()
    milliseconds = sorted(t * 1000 for t in timings)
    idle_ms = sorted(t * 1000 for t in idle)
    figures = {
        "users": users,
        "due": due,
        "rounds": rounds,
        "median_ms": round(statistics.median(milliseconds), 1),
        "max_ms": round(milliseconds[-1], 1),
        "idle_median_ms": round(statistics.median(idle_ms), 1),
        "statements": max(counted),
        "plans": plans,
    }
    print(
        f"tick with {due} of {users:,} users due: median {figures['median_ms']} ms, "
        f"max {figures['max_ms']} ms over {rounds} rounds; {figures['statements']} SQL "
        f"statements; with nothing due: median {figures['idle_median_ms']} ms"
    )
    for name, plan in plans.items():
        print(f"  {name}: {plan}")
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    async def delivered(*_: object) -> bool:
        return True

    # DMs "go out" at once: the figures are the tick's own work, not Discord's latency.
    os.environ["DISCORD_BOT_TOKEN"] = "bench"  # noqa: S105 - nothing leaves the process
    get_settings.cache_clear()
    DiscordClient.send_dm = delivered  # type: ignore[method-assign]
    with scratch_database("tick") as url:
        return asyncio.run(_run(url, args.users, args.due, args.rounds))


if __name__ == "__main__":
    main()
