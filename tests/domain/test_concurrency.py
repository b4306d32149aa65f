"""Races on real PostgreSQL: every call in its own committed transaction, all at once.

The per-user row lock must serialise them: the outcome equals some serial order of the
calls, and nothing but the domain's own outcomes (a result, "already", or Conflict) escapes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import allocation
from app import session as sessions
from app.clock import Clock
from app.errors import Conflict
from app.models import Session, SessionSource
from app.timing import session_times
from tests.domain.conftest import fresh_user_id

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]
CALLS = 20


async def in_transaction(factory: Sessions, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with factory() as db, db.begin():
        return await work(db)


async def race(
    factory: Sessions, works: list[Callable[[AsyncSession], Awaitable[Any]]]
) -> list[Any]:
    return await asyncio.gather(
        *(in_transaction(factory, work) for work in works), return_exceptions=True
    )


async def rows(factory: Sessions, sql: str, **params: object) -> list[Any]:
    async with factory() as db:
        return list((await db.execute(text(sql), params)).all())


def only_domain_outcomes(results: list[Any]) -> None:
    unexpected = [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)
    ]
    assert unexpected == [], unexpected


async def test_twenty_clock_ins_at_once_start_exactly_one_session(
    committed: Sessions, frozen: Clock
) -> None:
    user = fresh_user_id("racer")

    results = await race(
        committed,
        [
            lambda db, n=n: sessions.clock_in(db, user, f"Subject {n}", source=SessionSource.WEB)
            for n in range(CALLS)
        ],
    )

    only_domain_outcomes(results)
    started = [r for r in results if isinstance(r, Session)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(started) == 1
    assert len(refused) == CALLS - 1
    # Each refusal names what is being tracked.
    assert all(started[0].subject.name in conflict.detail for conflict in refused)
    active = await rows(committed, "SELECT id, status FROM sessions WHERE user_id = :u", u=user)
    assert [(row.id, row.status) for row in active] == [(started[0].id, "RUNNING")]
    # Only the winner's subject was created: losers' work was rolled back with them.
    subjects = await rows(committed, "SELECT name FROM subjects WHERE user_id = :u", u=user)
    assert [row.name for row in subjects] == [started[0].subject.name]


async def test_twenty_clock_ins_for_an_existing_user_with_history(
    committed: Sessions, frozen: Clock
) -> None:
    user = fresh_user_id("racer")

    async def history(db: AsyncSession) -> None:
        old = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
        frozen.advance(600)
        await sessions.clock_out(db, user, old.id)

    await in_transaction(committed, history)
    results = await race(
        committed,
        [lambda db: sessions.clock_in(db, user, "Maths", source=SessionSource.API)] * CALLS,
    )

    only_domain_outcomes(results)
    assert sum(isinstance(r, Session) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == CALLS - 1
    counts = await rows(
        committed,
        "SELECT status, count(*) AS n FROM sessions WHERE user_id = :u GROUP BY status"
        " ORDER BY status",
        u=user,
    )
    assert [(row.status, row.n) for row in counts] == [("ENDED_UNCONFIRMED", 1), ("RUNNING", 1)]


async def test_twenty_pauses_and_resumes_at_once_match_a_serial_order(
    committed: Sessions, frozen: Clock
) -> None:
    user = fresh_user_id("clicker")
    started = await in_transaction(
        committed, lambda db: sessions.clock_in(db, user, "Maths", source=SessionSource.DISCORD)
    )
    status, paused_total, pause_started_at = "RUNNING", 0, None

    for batch in range(6):
        now = frozen.advance(60 * (batch + 1))
        # An uneven mix in some batches, so the session can end a batch either way.
        pauses = CALLS // 2 + (batch % 3) - 1
        kinds = ["pause"] * pauses + ["resume"] * (CALLS - pauses)
        # Interleaved, so that many clicks really flip the state within one batch.
        random.Random(batch).shuffle(kinds)
        calls: list[Callable[[AsyncSession], Awaitable[Any]]] = [
            lambda db, kind=kind: getattr(sessions, kind)(db, user, started.id) for kind in kinds
        ]

        results = await race(committed, calls)

        assert all(isinstance(r, sessions.Outcome) for r in results), results
        applied = [kind for kind, r in zip(kinds, results, strict=True) if not r.already]
        applied_pauses, applied_resumes = applied.count("pause"), applied.count("resume")
        [row] = await rows(
            committed,
            "SELECT status, total_paused_seconds, pause_started_at FROM sessions WHERE id = :id",
            id=started.id,
        )
        # Real transitions alternate, so their counts tell where the session ended up.
        if status == "RUNNING":
            assert applied_pauses - applied_resumes == (row.status == "PAUSED")
        else:
            assert applied_resumes - applied_pauses == (row.status == "RUNNING")
        assert applied_pauses + applied_resumes >= 1
        # Within a batch the clock stands still: only the first resume of a pause begun in an
        # earlier batch adds time; every later pause-resume pair in the batch adds nothing.
        if status == "PAUSED" and applied_resumes:
            assert pause_started_at is not None
            paused_total += int((now - pause_started_at).total_seconds())
        if row.status == "PAUSED":
            pause_started_at = now if applied_pauses else pause_started_at
        else:
            pause_started_at = None
        assert row.total_paused_seconds == paused_total
        assert row.pause_started_at == pause_started_at
        status = row.status

    ended = await in_transaction(committed, lambda db: sessions.clock_out(db, user, started.id))
    times = session_times(ended.session, frozen.now())
    # Clocked out at the last batch's instant: an open pause adds nothing more.
    assert times.paused == paused_total
    assert times.effective == times.measured - times.paused >= 0


async def test_reopen_racing_clock_in_leaves_one_active_session(
    committed: Sessions, frozen: Clock
) -> None:
    user = fresh_user_id("racer")

    async def ended(db: AsyncSession) -> int:
        old = await sessions.clock_in(db, user, "Maths", source=SessionSource.WEB)
        frozen.advance(600)
        await sessions.clock_out(db, user, old.id)
        return old.id

    old_id = await in_transaction(committed, ended)
    frozen.advance(60)
    calls: list[Callable[[AsyncSession], Awaitable[Any]]] = []
    for n in range(CALLS):
        if n % 2:
            calls.append(lambda db: sessions.reopen(db, user, old_id))
        else:
            calls.append(
                lambda db: sessions.clock_in(db, user, "Physics", source=SessionSource.WEB)
            )

    results = await race(committed, calls)

    only_domain_outcomes(results)
    winners = [
        r
        for r in results
        if isinstance(r, Session) or (isinstance(r, sessions.Outcome) and not r.already)
    ]
    assert len(winners) == 1
    active = await rows(
        committed,
        "SELECT id FROM sessions WHERE user_id = :u AND status IN ('RUNNING', 'PAUSED')",
        u=user,
    )
    assert len(active) == 1


async def test_twenty_allocations_of_a_new_subject_at_once(
    committed: Sessions, frozen: Clock
) -> None:
    user = fresh_user_id("planner")

    results = await race(
        committed,
        [
            lambda db, n=n: allocation.set_allocation(db, user, "New Subject", 1 + n)
            for n in range(CALLS)
        ],
    )

    assert all(isinstance(r, allocation.WeekReport) for r in results), results
    subjects = await rows(committed, "SELECT id FROM subjects WHERE user_id = :u", u=user)
    plans = await rows(
        committed, "SELECT minutes_allocated FROM weekly_allocations WHERE user_id = :u", u=user
    )
    assert len(subjects) == 1
    assert len(plans) == 1
    assert plans[0].minutes_allocated in {60 * (1 + n) for n in range(CALLS)}


async def test_two_users_linking_one_github_login_at_once(
    committed: Sessions, frozen: Clock
) -> None:
    from app import accounts

    users = [fresh_user_id("linker") for _ in range(2)]
    for user in users:
        await in_transaction(committed, lambda db, user=user: accounts.ensure_user(db, user))

    results = await race(
        committed,
        [lambda db, user=user: accounts.link_github(db, user, "Same-Login") for user in users * 3],
    )

    only_domain_outcomes(results)
    holders = await rows(
        committed,
        "SELECT id FROM users WHERE lower(github_login) = 'same-login'",
    )
    assert len(holders) == 1
    # Whoever got it first keeps it; every call by the other user was refused.
    winner = holders[0].id
    for user, result in zip(users * 3, results, strict=True):
        assert isinstance(result, Conflict) == (user != winner)
