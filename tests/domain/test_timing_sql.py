"""The effective-time rule has two spellings, Python and SQL; PostgreSQL must agree with Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app.models import Session, SessionStatus
from app.timing import effective_seconds_sql, session_times
from tests.domain.conftest import fresh_user_id

BASE = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = 365 * 86400

instants = st.builds(
    lambda seconds, micros: BASE + timedelta(seconds=seconds, microseconds=micros),
    st.integers(0, YEAR),
    # The clock writes whole seconds; rows written by other means may not.
    st.one_of(st.just(0), st.integers(0, 999_999)),
)
spans = st.one_of(st.integers(0, 120), st.integers(0, 3 * 86400))


@st.composite
def session_rows(draw: st.DrawFn) -> dict[str, Any]:
    """Column values that satisfy every CHECK constraint on sessions."""
    status = draw(st.sampled_from(list(SessionStatus)))
    started = draw(instants)
    ended = None
    if status in (SessionStatus.ENDED_UNCONFIRMED, SessionStatus.ENDED_CONFIRMED):
        ended = started + timedelta(seconds=draw(spans))
    paused_at = None
    if status == SessionStatus.PAUSED:
        # Usually after the start; the rule must cope with any stored value regardless.
        paused_at = started + timedelta(seconds=draw(st.integers(-600, 3 * 86400)))
    # The domain never leaves an override on an open session, but no constraint forbids one.
    override = draw(st.one_of(st.none(), st.integers(0, 86400)))
    return {
        "status": status.value,
        "started_at": started,
        "ended_at": ended,
        "pause_started_at": paused_at,
        "total_paused_seconds": draw(st.one_of(st.integers(0, 600), st.integers(0, 5 * 86400))),
        "effective_override_seconds": override,
        "source": "web",
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(session_rows(), min_size=1, max_size=12),
    now=st.one_of(instants, st.builds(lambda d: BASE + timedelta(seconds=d), st.integers(-60, 60))),
)
async def test_sql_effective_time_equals_python(
    db: AsyncSession, rows: list[dict[str, Any]], now: datetime
) -> None:
    savepoint = await db.begin_nested()
    try:
        values = []
        for row in rows:
            # One user per row: a user may have only one open session.
            user_id = fresh_user_id("timing")
            await accounts.ensure_user(db, user_id)
            subject = await accounts.find_or_create_subject(db, user_id, "Timing")
            values.append({**row, "user_id": user_id, "subject_id": subject.id})
        ids = (await db.execute(insert(Session).returning(Session.id), values)).scalars().all()
        assert len(ids) == len(rows)

        statement = select(Session, effective_seconds_sql(now)).where(Session.id.in_(ids))
        result = (await db.execute(statement.execution_options(populate_existing=True))).all()

        assert len(result) == len(rows)
        for loaded, in_sql in result:
            times = session_times(loaded, now)
            assert in_sql == times.effective, (loaded.status, loaded.started_at, now)
            assert times.effective >= 0
    finally:
        await savepoint.rollback()


async def test_sql_sum_of_effective_time_is_an_integer(db: AsyncSession) -> None:
    """The week report sums the SQL rule; a running and an overridden session add up exactly."""
    from sqlalchemy import func

    user_id = fresh_user_id("timing")
    await accounts.ensure_user(db, user_id)
    subject = await accounts.find_or_create_subject(db, user_id, "Timing")
    now = BASE + timedelta(hours=10)
    await db.execute(
        insert(Session),
        [
            {
                "user_id": user_id,
                "subject_id": subject.id,
                "status": "RUNNING",
                "started_at": now - timedelta(minutes=90),
                "total_paused_seconds": 600,
                "source": "api",
            },
            {
                "user_id": user_id,
                "subject_id": subject.id,
                "status": "ENDED_CONFIRMED",
                "started_at": now - timedelta(hours=5),
                "ended_at": now - timedelta(hours=4),
                "effective_override_seconds": 123,
                "source": "api",
            },
        ],
    )
    total = await db.scalar(
        select(func.sum(effective_seconds_sql(now))).where(Session.user_id == user_id)
    )
    assert total == 80 * 60 + 123
