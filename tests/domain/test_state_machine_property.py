"""Random sequences of actions by three users keep every invariant of the state machine.

hypothesis draws a list of steps; each example replays it against PostgreSQL inside a
savepoint that is rolled back afterwards, and against a small in-memory model of the
state table. After every step the table must agree with the model exactly: statuses, the
stored times, one active session per user at most, effective >= 0 and paused <= measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import history
from app import session as sessions
from app.clock import Clock
from app.errors import Conflict, InvalidInput, NotFound, NotOwner
from app.models import SessionSource
from app.timing import session_times
from tests.conftest import FROZEN_AT
from tests.domain.conftest import fresh_user_id

RUNNING, PAUSED = "RUNNING", "PAUSED"
EU, EC = "ENDED_UNCONFIRMED", "ENDED_CONFIRMED"
ACTIVE = (RUNNING, PAUSED)
UNKNOWN_ID = 10**12

OPS = (
    "clock_in",
    "pause",
    "resume",
    "clock_out",
    "clock_out_active",
    "adjust_time",
    "edit_purpose",
    "confirm",
    "reopen",
)
# Pausing and resuming are what people click most, and where time accrues.
WEIGHTED_OPS = (*OPS, "pause", "pause", "resume", "resume", "confirm", "reopen")
# value -> the override it means, or None when it must be refused.
ADJUST_VALUES: dict[str | int, int | None] = {
    0: 0,
    "0": 0,
    1800: 1800,
    "30m": 1800,
    "1h": 3600,
    86400: 86400,
    -1: None,
    86401: None,
    "25h": None,
}
GOALS = (None, "", "focus", "  focus  ", "other")
# The state table (app/session.py) as edges: pause, resume, clock out (x2), confirm, reopen.
LEGAL_CHANGES = {
    (RUNNING, PAUSED),
    (PAUSED, RUNNING),
    (RUNNING, EU),
    (PAUSED, EU),
    (EU, EC),
    (EU, RUNNING),
}


@dataclass
class Model:
    id: int
    owner: str
    started_at: datetime
    goal: str | None
    status: str = RUNNING
    ended_at: datetime | None = None
    paused: int = 0
    pause_started_at: datetime | None = None
    override: int | None = None


@dataclass
class World:
    users: list[str]
    sessions: list[Model] = field(default_factory=list)
    seen: dict[int, str] = field(default_factory=dict)  # status at the previous check

    def active_of(self, user: str) -> Model | None:
        found = [s for s in self.sessions if s.owner == user and s.status in ACTIVE]
        assert len(found) <= 1
        return found[0] if found else None


def _seconds(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds())


def _clean(goal: str | None) -> str | None:
    return " ".join((goal or "").split()) or None


def _end(model: Model, now: datetime) -> None:
    if model.status == PAUSED:
        assert model.pause_started_at is not None
        model.paused += _seconds(now, model.pause_started_at)
    model.status, model.ended_at, model.pause_started_at = EU, now, None


def expect(world: World, step: Step, now: datetime) -> tuple[str, Model | None]:
    """Apply the step to the model; return the kind of result the domain must give."""
    actor = world.users[step.actor]
    if step.op == "clock_in":
        return ("conflict", None) if world.active_of(actor) else ("new", None)
    if step.op == "clock_out_active":
        active = world.active_of(actor)
        if active is None:
            return "conflict", None
        _end(active, now)
        return "changed", active
    if step.op == "adjust_time" and ADJUST_VALUES[step.value] is None:
        return "invalid", None

    model = target_of(world, step)
    if model is None:
        return "not_found", None
    if model.owner != actor:
        return "not_owner", model
    status = model.status

    if step.op == "pause":
        if status == PAUSED:
            return "already", model
        if status != RUNNING:
            return "conflict", model
        model.status, model.pause_started_at = PAUSED, now
    elif step.op == "resume":
        if status == RUNNING:
            return "already", model
        if status != PAUSED:
            return "conflict", model
        assert model.pause_started_at is not None
        model.paused += _seconds(now, model.pause_started_at)
        model.status, model.pause_started_at = RUNNING, None
    elif step.op == "clock_out":
        if status not in ACTIVE:
            return "already", model
        _end(model, now)
    elif step.op == "adjust_time":
        seconds = ADJUST_VALUES[step.value]
        if status in ACTIVE or (status == EC and not step.allow_confirmed):
            return "conflict", model
        if model.override == seconds:
            return "already", model
        model.override = seconds
    elif step.op == "edit_purpose":
        if model.goal == _clean(step.goal):
            return "already", model
        model.goal = _clean(step.goal)
    elif step.op == "confirm":
        if status == EC:
            return "already", model
        if status != EU:
            return "conflict", model
        model.status = EC
    elif step.op == "reopen":
        if status in ACTIVE:
            return "already", model
        if status == EC or world.active_of(actor) is not None:
            return "conflict", model
        assert model.ended_at is not None
        model.paused += _seconds(now, model.ended_at)
        model.status, model.ended_at, model.override = RUNNING, None, None
    return "changed", model


@dataclass(frozen=True)
class Step:
    actor: int
    op: str
    target: int
    foreign: bool
    advance: int
    value: str | int = 0
    allow_confirmed: bool = False
    goal: str | None = None


def target_of(world: World, step: Step) -> Model | None:
    """The `target`-th most recent session of the actor, or of someone else when foreign."""
    actor = world.users[step.actor]
    candidates = [s for s in world.sessions if (s.owner != actor) == step.foreign]
    return candidates[-1 - step.target % len(candidates)] if candidates else None


steps = st.builds(
    Step,
    # Alice and Bob do most things; Carol drops in now and then.
    actor=st.sampled_from((0, 0, 0, 1, 1, 1, 2)),
    op=st.sampled_from(WEIGHTED_OPS),
    # Mostly the latest session, sometimes an older one.
    target=st.sampled_from((0, 0, 0, 1, 2)),
    # One step in eight acts on somebody else's session.
    foreign=st.integers(0, 7).map(lambda n: n == 0),
    advance=st.one_of(st.just(0), st.integers(1, 59), st.integers(60, 3 * 3600)),
    value=st.sampled_from(list(ADJUST_VALUES)),
    allow_confirmed=st.booleans(),
    goal=st.sampled_from(GOALS),
)


async def perform(db: AsyncSession, world: World, step: Step) -> Any:
    actor = world.users[step.actor]
    if step.op == "clock_in":
        return await sessions.clock_in(db, actor, "Maths", step.goal, source=SessionSource.DISCORD)
    if step.op == "clock_out_active":
        return await sessions.clock_out_active(db, actor)
    model = target_of(world, step)
    target = model.id if model is not None else UNKNOWN_ID
    if step.op == "adjust_time":
        return await sessions.adjust_time(
            db, actor, target, step.value, allow_confirmed=step.allow_confirmed
        )
    if step.op == "edit_purpose":
        return await sessions.edit_goal(db, actor, target, step.goal)
    action = getattr(sessions, step.op)
    return await action(db, actor, target)


async def check_table(db: AsyncSession, world: World, now: datetime) -> None:
    await db.flush()
    result = await db.execute(
        text(
            "SELECT id, user_id, status, ended_at, total_paused_seconds, pause_started_at,"
            " effective_override_seconds, goal FROM sessions WHERE user_id = ANY(:users)"
            " ORDER BY id"
        ),
        {"users": world.users},
    )
    rows = result.all()
    assert [row.id for row in rows] == [model.id for model in world.sessions]
    # Independently of the model: a status moves only along an edge of the state table.
    for row in rows:
        before = world.seen.get(row.id, row.status)
        assert before == row.status or (before, row.status) in LEGAL_CHANGES, (before, row)
        world.seen[row.id] = row.status
    for row, model in zip(rows, world.sessions, strict=True):
        assert (
            row.user_id,
            row.status,
            row.ended_at,
            row.total_paused_seconds,
            row.pause_started_at,
            row.effective_override_seconds,
            row.goal,
        ) == (
            model.owner,
            model.status,
            model.ended_at,
            model.paused,
            model.pause_started_at,
            model.override,
            model.goal,
        )

    active = await db.execute(
        text(
            "SELECT user_id, count(*) AS n FROM sessions"
            " WHERE user_id = ANY(:users) AND status IN ('RUNNING', 'PAUSED') GROUP BY user_id"
        ),
        {"users": world.users},
    )
    assert all(row.n == 1 for row in active.all())

    for user in world.users:
        for loaded in (await history.page(db, user, limit=100)).sessions:
            times = session_times(loaded, now)
            assert times.effective >= 0
            assert 0 <= times.paused <= times.measured
            if loaded.effective_override_seconds is None:
                assert times.effective == times.measured - times.paused


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(steps, min_size=3, max_size=30))
async def test_any_sequence_of_actions_keeps_the_invariants(
    db: AsyncSession, frozen: Clock, plan: list[Step]
) -> None:
    frozen.freeze(FROZEN_AT)
    world = World(users=[fresh_user_id("alice"), fresh_user_id("bob"), fresh_user_id("carol")])
    # Alice and Bob start tracking, so the drawn steps mostly act on real sessions.
    prelude = [
        Step(actor=user, op="clock_in", target=0, foreign=False, advance=0) for user in (0, 1)
    ]
    savepoint = await db.begin_nested()
    try:
        for step in [*prelude, *plan]:
            now = frozen.advance(step.advance)
            kind, model = expect(world, step, now)
            event(f"{step.op}: {kind}")
            await run_step(db, world, step, kind, model, now)
            await check_table(db, world, now)
    finally:
        await savepoint.rollback()


async def run_step(
    db: AsyncSession, world: World, step: Step, kind: str, model: Model | None, now: datetime
) -> None:
    errors: dict[str, type[Exception]] = {
        "conflict": Conflict,
        "invalid": InvalidInput,
        "not_owner": NotOwner,
        "not_found": NotFound,
    }
    if kind in errors:
        try:
            await perform(db, world, step)
        except errors[kind] as refused:
            # A missing session is a plain NotFound, never "someone else's".
            assert kind != "not_found" or not isinstance(refused, NotOwner)
            return
        raise AssertionError(f"{step} should have failed with {errors[kind].__name__}")

    result = await perform(db, world, step)
    if kind == "new":
        assert result.status == RUNNING and result.started_at == now
        world.sessions.append(
            Model(
                id=result.id,
                owner=world.users[step.actor],
                started_at=now,
                goal=_clean(step.goal),
            )
        )
        return
    if step.op == "clock_out_active":
        assert model is not None and result.id == model.id
        return
    assert model is not None
    assert result.session.id == model.id
    assert result.already == (kind == "already"), (step, result.notice)
    assert result.session.status == model.status
