"""The week report reads one week of sessions through the index, whatever the history.

100,000 historical sessions are written with one INSERT ... SELECT inside the test's
transaction; the plan PostgreSQL picks for the report's own SQL must use the
(user_id, started_at) index. The assertion is on the plan, never on time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.allocation import set_allocation, week_report
from app.clock import Clock
from app.weeks import week_bounds
from tests.domain.conftest import fresh_user_id

HISTORY = 100_000
INDEX = "ix_sessions_user_id_started_at"

# Sessions every 50 minutes going back from now, each 30 minutes long with 2 paused, spread
# over five subjects; every row satisfies the table's CHECK constraints.
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


async def write_history(db: AsyncSession, user_id: str, count: int, now: Any) -> None:
    await accounts.ensure_user(db, user_id)
    subjects = [
        (await accounts.find_or_create_subject(db, user_id, f"Subject {n}")).id for n in range(5)
    ]
    await db.execute(
        text(INSERT_HISTORY),
        {"user_id": user_id, "subject_ids": subjects, "now": now, "count": count},
    )


@contextmanager
def captured_sql(db: AsyncSession) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) the session sends while the block runs."""
    statements: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statements.append((statement, parameters))

    engine = db.bind.engine.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def test_week_report_uses_the_started_at_index_with_100k_sessions(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id("historian")
    now = frozen.now()
    await write_history(db, user_id, HISTORY, now)
    # Neighbours with histories of their own, so the user filter alone is not enough.
    for n in range(3):
        await write_history(db, fresh_user_id(f"neighbour{n}"), 2_000, now)
    await set_allocation(db, user_id, "Subject 1", 4)
    await db.execute(text("ANALYZE sessions"))
    total = await db.scalar(
        text("SELECT count(*) FROM sessions WHERE user_id = :u"), {"u": user_id}
    )
    assert total == HISTORY

    with captured_sql(db) as statements:
        report = await week_report(db, user_id)
    [(sql, parameters)] = [(s, p) for s, p in statements if "weekly_allocations" in s]

    connection = await db.connection()
    explained = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters)
    raw = explained.scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    on_sessions = [node for node in plan_nodes(plan) if node.get("Relation Name") == "sessions"]
    assert on_sessions, plan
    assert all(node["Node Type"] != "Seq Scan" for node in on_sessions), plan
    assert any(
        node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")
        for node in on_sessions
    ), plan
    index_nodes = [node for node in plan_nodes(plan) if node.get("Index Name") == INDEX]
    assert index_nodes, plan

    # And the report is right: the week's sessions, summed the same way by hand.
    start, end = week_bounds(report.timezone, report.week_start)
    expected = await db.scalar(
        text(
            "SELECT sum(coalesce(effective_override_seconds,"
            " extract(epoch FROM ended_at - started_at)::int - total_paused_seconds))"
            " FROM sessions WHERE user_id = :u AND started_at >= :start AND started_at < :end"
        ),
        {"u": user_id, "start": start, "end": end},
    )
    assert report.total_tracked_seconds == expected > 0
    assert {row.subject for row in report.rows} == {f"Subject {n}" for n in range(5)}
    assert report.total_allocated_seconds == 4 * 3600
    assert end - start == timedelta(days=7)
