"""How long the week report, and a year's summary, take for a user with a long history
(100,000 sessions).

Creates a throwaway database on the same server the app uses (the embedded PostgreSQL, or
DATABASE_URL's server), migrates it, writes the history with one INSERT ... SELECT, times
`app.allocation.week_report` and `app.reports.summary` over the last 366 days by day and by
subject, and drops the database again. It prints figures; it never
fails on timing.

    python -m bench.week_report [--sessions 100000] [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import accounts, migrate
from app.allocation import set_allocation, week_report
from app.clock import clock
from app.db import database, ensure_database, libpq_url, resolve_database_url
from app.reports import GroupBy, summary

USER_ID = "bench-user"

# Every 50 minutes back from now, 30 minutes long with 2 paused, over five subjects; some
# unconfirmed, some adjusted. Rows satisfy every CHECK constraint of the table.
INSERT_HISTORY = """
INSERT INTO sessions (user_id, subject_id, started_at, ended_at, status, total_paused_seconds,
                      effective_override_seconds, source, created_at, updated_at)
SELECT :user_id,
       (:subject_ids ::bigint[])[1 + i % 5],
       :now - i * interval '50 minutes',
       :now - i * interval '50 minutes' + interval '30 minutes',
       CASE WHEN i % 3 = 0 THEN 'ENDED_UNCONFIRMED' ELSE 'ENDED_CONFIRMED' END,
       120,
       CASE WHEN i % 7 = 0 THEN 600 END,
       'discord',
       :now, :now
FROM generate_series(1, :count) AS i
"""


def _server_command(server_url: str, sql: psycopg.sql.Composable) -> None:
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(sql)


async def _prepare(sessions: int) -> None:
    async with database.sessions() as db, db.begin():
        await accounts.ensure_user(db, USER_ID, "bench")
        subject_ids = [
            (await accounts.find_or_create_subject(db, USER_ID, f"Subject {n}")).id
            for n in range(5)
        ]
        await db.execute(
            text(INSERT_HISTORY),
            {
                "user_id": USER_ID,
                "subject_ids": subject_ids,
                "now": clock.now(),
                "count": sessions,
            },
        )
        for n in range(3):
            await set_allocation(db, USER_ID, f"Subject {n}", 2 + n)
    async with database.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))


async def _time_reports(runs: int) -> tuple[list[float], int]:
    timings: list[float] = []
    rows = 0
    for attempt in range(runs + 3):
        started = time.perf_counter()
        async with database.sessions() as db, db.begin():
            report = await week_report(db, USER_ID)
        elapsed = time.perf_counter() - started
        if attempt >= 3:  # the first few warm the pool and the caches
            timings.append(elapsed)
        rows = len(report.rows)
    return timings, rows


async def _time_summaries(runs: int, group_by: GroupBy) -> list[float]:
    today = clock.now().date()
    first = today - timedelta(days=365)
    timings: list[float] = []
    for attempt in range(runs + 3):
        started = time.perf_counter()
        async with database.sessions() as db, db.begin():
            await summary(db, USER_ID, first=first, last=today, group_by=group_by)
        if attempt >= 3:
            timings.append(time.perf_counter() - started)
    return timings


def _figures(timings: list[float]) -> dict[str, float]:
    milliseconds = sorted(t * 1000 for t in timings)
    p95 = statistics.quantiles(milliseconds, n=20)[18] if len(milliseconds) > 1 else milliseconds[0]
    return {
        "median_ms": round(statistics.median(milliseconds), 3),
        "p95_ms": round(p95, 3),
        "max_ms": round(milliseconds[-1], 3),
    }


async def _run(url: str, sessions: int, runs: int) -> dict[str, Any]:
    database.configure(url)
    try:
        started = time.perf_counter()
        await _prepare(sessions)
        print(f"wrote {sessions:,} sessions in {time.perf_counter() - started:.1f} s")
        timings, rows = await _time_reports(runs)
        summaries = {
            str(group_by): _figures(await _time_summaries(runs, group_by))
            for group_by in (GroupBy.DAY, GroupBy.SUBJECT)
        }
    finally:
        await database.dispose()
    milliseconds = sorted(t * 1000 for t in timings)
    p95 = statistics.quantiles(milliseconds, n=20)[18] if len(milliseconds) > 1 else milliseconds[0]
    print(
        f"week report ({rows} subjects) with {sessions:,} sessions: "
        f"median {statistics.median(milliseconds):.2f} ms, p95 {p95:.2f} ms, "
        f"max {milliseconds[-1]:.2f} ms over {len(milliseconds)} runs"
    )
    for group_by, figures in summaries.items():
        print(
            f"a year's summary by {group_by} with {sessions:,} sessions: "
            f"median {figures['median_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, "
            f"max {figures['max_ms']:.2f} ms over {runs} runs"
        )
    return {
        "sessions": sessions,
        "subjects": rows,
        "runs": len(milliseconds),
        "median_ms": round(statistics.median(milliseconds), 3),
        "p95_ms": round(p95, 3),
        "max_ms": round(milliseconds[-1], 3),
        "year_summary": summaries,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)

    server_url = resolve_database_url()
    name = f"timetrack_bench_{os.getpid()}"
    drop = psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        psycopg.sql.Identifier(name)
    )
    _server_command(server_url, drop)
    url = ensure_database(server_url, name)
    try:
        migrate.upgrade(url)
        return asyncio.run(_run(url, args.sessions, args.runs))
    finally:
        maintenance = make_url(url).set(database="postgres").render_as_string(hide_password=False)
        _server_command(maintenance, drop)


if __name__ == "__main__":
    main()
