"""Helpers for the domain tests: fresh user ids, sessions put in a given state, raw rows."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import session as sessions
from app.models import Session, SessionSource

NONE = "none"
RUNNING = "RUNNING"
PAUSED = "PAUSED"
ENDED_UNCONFIRMED = "ENDED_UNCONFIRMED"
ENDED_CONFIRMED = "ENDED_CONFIRMED"
STATES = (NONE, RUNNING, PAUSED, ENDED_UNCONFIRMED, ENDED_CONFIRMED)

_counter = itertools.count(1)


def fresh_user_id(prefix: str = "user") -> str:
    """A user id no other test (in this process) uses, so tests never see each other's rows."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}"


@pytest.fixture
def new_user() -> Callable[..., str]:
    return fresh_user_id


async def session_in_state(
    db: AsyncSession, user_id: str, state: str, *, subject: str = "Maths", goal: str = "revise"
) -> Session:
    """A session of `user_id` driven through the domain into `state` (never NONE)."""
    assert state != NONE
    started = await sessions.clock_in(db, user_id, subject, goal, source=SessionSource.DISCORD)
    if state == PAUSED:
        await sessions.pause(db, user_id, started.id)
    if state in (ENDED_UNCONFIRMED, ENDED_CONFIRMED):
        await sessions.clock_out(db, user_id, started.id)
    if state == ENDED_CONFIRMED:
        await sessions.confirm(db, user_id, started.id)
    return started


async def row_of(db: AsyncSession, session_id: int) -> dict[str, Any]:
    """The session's row as PostgreSQL has it, bypassing the ORM's identity map."""
    await db.flush()
    result = await db.execute(text("SELECT * FROM sessions WHERE id = :id"), {"id": session_id})
    return dict(result.mappings().one())


async def active_counts(db: AsyncSession) -> dict[str, int]:
    """Active sessions per user, straight from the table."""
    await db.flush()
    result = await db.execute(
        text(
            "SELECT user_id, count(*) FROM sessions"
            " WHERE status IN ('RUNNING', 'PAUSED') GROUP BY user_id"
        )
    )
    return {user_id: int(count) for user_id, count in result.all()}
