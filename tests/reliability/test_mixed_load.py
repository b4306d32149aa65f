"""Mixed load: 200 concurrent operations from 20 users, REST and Discord, with real commits.

Every operation is sent at once through the ASGI app (no `get_db` override, so each request
owns its transaction as in production) while the frozen clock moves forward underneath
them. Many operations lose races and are refused (409, an ephemeral notice); none may fail.
Afterwards the stored data must satisfy the invariants: at most one active session per user,
no negative effective time, paused never above measured, and each user's week report equal
to the sum of the sessions' effective times by `app.timing.session_times`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, allocation
from app import session as sessions
from app.clock import Clock
from app.models import ACTIVE_STATUSES, Session, SessionSource, Subject
from app.timing import session_times
from app.weeks import week_bounds
from server.integrations.discord.router import DATABASE_DOWN, SOMETHING_WENT_WRONG
from tests.discord.support import Signer, assert_callback, click, command, submit

USERS = [str(2_100_000_000_000_000_000 + n) for n in range(20)]
OPERATIONS = 200
SUBJECTS = ["search engine", "Search Engine", "gym", "reading", "ops"]
SEED = 20261118


@dataclass
class World:
    tokens: dict[str, str]
    session_ids: dict[str, list[int]]


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    successes: int = 0


@pytest_asyncio.fixture(loop_scope="session")
async def world(committed: async_sessionmaker[AsyncSession], frozen: Clock) -> World:
    """20 users with tokens; each has an ended session, every other one a running one."""
    tokens: dict[str, str] = {}
    ids: dict[str, list[int]] = defaultdict(list)
    async with committed() as db, db.begin():
        for n, user_id in enumerate(USERS):
            tokens[user_id] = (await accounts.create_api_token(db, user_id, "load"))[1]
            ended = await sessions.clock_in(db, user_id, "reading", source=SessionSource.API)
            await sessions.clock_out(db, user_id, ended.id)
            ids[user_id].append(ended.id)
            if n % 2 == 0:
                running = await sessions.clock_in(db, user_id, "gym", source=SessionSource.DISCORD)
                ids[user_id].append(running.id)
    frozen.advance(600)
    return World(tokens, dict(ids))


Operation = Callable[[], Awaitable[tuple[str, httpx.Response]]]


def _plan(http: httpx.AsyncClient, signer: Signer, world: World) -> list[Operation]:
    """A reproducible mix of REST calls, slash commands, button clicks and modal submits."""
    rng = random.Random(SEED)
    everyone = [sid for ids in world.session_ids.values() for sid in ids]

    def rest(user: str, method: str, path: str, **kwargs: Any) -> Operation:
        headers = {"Authorization": f"Token {world.tokens[user]}"}

        async def send() -> tuple[str, httpx.Response]:
            return "rest", await http.request(method, path, headers=headers, **kwargs)

        return send

    def discord(payload: dict[str, Any]) -> Operation:
        async def send() -> tuple[str, httpx.Response]:
            body = httpx.Request("POST", "/", json=payload).content
            response = await http.post("/api/discord", content=body, headers=signer.headers(body))
            return "discord", response

        return send

    plan: list[Operation] = []
    for _ in range(OPERATIONS):
        user = rng.choice(USERS)
        # Mostly the user's own sessions; sometimes someone else's, which must be refused.
        target = rng.choice(world.session_ids[user] if rng.random() < 0.85 else everyone)
        subject = rng.choice(SUBJECTS)
        kind = rng.choice(
            [
                "rest start",
                "rest pause",
                "rest resume",
                "rest stop",
                "rest confirm",
                "rest adjust",
                "rest reopen",
                "discord in",
                "discord out",
                "discord pause",
                "discord resume",
                "discord status",
                "discord click",
                "discord click",
                "discord adjust",
            ]
        )
        if kind == "rest start":
            body = {"subject": subject, "goal": "load test"}
            plan.append(rest(user, "POST", "/api/timelogs/start/", json=body))
        elif kind == "rest adjust":
            duration = rng.choice(["25m", "1h", "0m", "3h 10m"])
            body = {"effective_duration": duration}
            plan.append(rest(user, "PATCH", f"/api/timelogs/{target}/", json=body))
        elif kind.startswith("rest "):
            action = kind.removeprefix("rest ")
            plan.append(rest(user, "POST", f"/api/timelogs/{target}/{action}/"))
        elif kind == "discord in":
            plan.append(discord(command("session in", user, subject=subject, purpose="load")))
        elif kind == "discord click":
            action = rng.choice(["pause", "resume", "out", "confirm", "reopen"])
            plan.append(discord(click(f"{action}:{target}", user)))
        elif kind == "discord adjust":
            duration = rng.choice(["45m", "1h 5m", "0m"])
            plan.append(discord(submit(f"adjust_time:{target}", {"duration": duration}, user)))
        else:
            plan.append(discord(command(f"session {kind.removeprefix('discord ')}", user)))
    return plan


def _judge(tally: Tally, kind: str, response: httpx.Response) -> None:
    tally.statuses[f"{kind} {response.status_code}"] += 1
    if response.status_code >= 500:
        tally.failures.append(f"{kind}: {response.status_code} {response.text}")
        return
    if kind == "rest":
        if response.status_code in (200, 201):
            tally.successes += 1
        return
    if response.status_code != 200:
        tally.failures.append(f"discord: {response.status_code} {response.text}")
        return
    answer = response.json()
    assert_callback(answer)
    content = str((answer.get("data") or {}).get("content") or "")
    if SOMETHING_WENT_WRONG in content or DATABASE_DOWN in content:
        tally.failures.append(f"discord: {content}")
    elif (answer.get("data") or {}).get("embeds"):
        tally.successes += 1


async def _run_concurrently(plan: list[Operation], frozen: Clock) -> list[Any]:
    done = asyncio.Event()

    async def move_time() -> None:
        # Time passes while the operations race, so pauses and reopenings have real lengths.
        while not done.is_set():
            frozen.advance(11)
            await asyncio.sleep(0.002)

    ticker = asyncio.create_task(move_time())
    try:
        return await asyncio.gather(*(operation() for operation in plan), return_exceptions=True)
    finally:
        done.set()
        await ticker


@pytest.mark.usefixtures("discord_env")
async def test_two_hundred_concurrent_mixed_operations_keep_every_invariant(
    http: httpx.AsyncClient,
    signer: Signer,
    world: World,
    frozen: Clock,
    committed: async_sessionmaker[AsyncSession],
) -> None:
    results = await _run_concurrently(_plan(http, signer, world), frozen)

    tally = Tally()
    for result in results:
        if isinstance(result, BaseException):
            tally.failures.append(f"raised {type(result).__name__}: {result}")
        else:
            _judge(tally, *result)
    assert not tally.failures, (tally.failures[:5], tally.statuses)
    # Not vacuous: plenty of the operations really changed something.
    assert tally.successes >= OPERATIONS // 5, tally.statuses

    async with committed() as db:
        rows = await db.execute(
            select(Session).where(Session.user_id.in_(USERS)).order_by(Session.id)
        )
        stored = list(rows.scalars())
        named = await db.execute(select(Subject.id, Subject.name).where(Subject.user_id.in_(USERS)))
        subject_names = {subject_id: name for subject_id, name in named.all()}
        for user in USERS:
            mine = [s for s in stored if s.user_id == user]
            assert sum(s.status in ACTIVE_STATUSES for s in mine) <= 1, user
            report = await allocation.week_report(db, user)
            start, end = week_bounds(report.timezone, report.week_start)
            expected: Counter[str] = Counter()
            for session in mine:
                times = session_times(session, report.generated_at)
                assert times.effective >= 0, session.id
                assert times.measured >= 0, session.id
                assert times.paused <= times.measured, (session.id, times)
                if start <= session.started_at < end:
                    expected[subject_names[session.subject_id]] += times.effective
            tracked = {row.subject: row.tracked_seconds for row in report.rows}
            assert report.total_tracked_seconds == sum(expected.values()), user
            for name in set(tracked) | set(expected):
                assert tracked.get(name, 0) == expected.get(name, 0), (user, name)
