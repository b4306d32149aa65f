"""Deliveries racing each other on committed data: never a 500, never two active sessions."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from tests.github.conftest import Hook, fresh_user_id, payload, retarget


async def _linked(committed: async_sessionmaker[AsyncSession], *logins: str) -> list[str]:
    ids = []
    async with committed() as db, db.begin():
        for login in logins:
            user_id = fresh_user_id()
            await accounts.link_github(db, user_id, login)
            ids.append(user_id)
    return ids


async def _count(committed: async_sessionmaker[AsyncSession], sql: str) -> int:
    async with committed() as db:
        return int(await db.scalar(text(sql)) or 0)


async def test_the_same_delivery_twice_at_once_is_applied_once(
    live_client: AsyncClient, committed: async_sessionmaker[AsyncSession]
) -> None:
    await _linked(committed, "Codertocat")
    hook = Hook(live_client)
    body = retarget(payload("issues.assigned"), "Codertocat")

    answers = await asyncio.gather(
        *(hook.send("issues", body, delivery="same-delivery") for _ in range(4))
    )

    assert [a.status_code for a in answers] == [200] * 4
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["duplicate", "duplicate", "duplicate", "started"]
    assert await _count(committed, "SELECT count(*) FROM sessions") == 1
    assert await _count(committed, "SELECT count(*) FROM processed_events") == 1


async def test_different_deliveries_for_one_user_start_one_session(
    live_client: AsyncClient, committed: async_sessionmaker[AsyncSession]
) -> None:
    await _linked(committed, "Codertocat")
    hook = Hook(live_client)
    body = retarget(payload("issues.assigned"), "Codertocat")

    answers = await asyncio.gather(*(hook.send("issues", body) for _ in range(4)))

    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["status"] for a in answers) == ["noop", "noop", "noop", "started"]
    assert await _count(committed, "SELECT count(*) FROM sessions") == 1


async def test_a_close_racing_assignments_leaves_nothing_running_on_the_closed_issue(
    live_client: AsyncClient, committed: async_sessionmaker[AsyncSession]
) -> None:
    await _linked(committed, "alice", "bob")
    hook = Hook(live_client)
    for login in ("alice", "bob"):
        await hook.send("issues", retarget(payload("issues.assigned"), login))

    answers = await asyncio.gather(
        hook.send("issues", payload("issues.closed")),
        hook.send("issues", payload("issues.closed")),
    )

    assert sorted(a.json()["status"] for a in answers) == ["noop", "stopped"]
    assert await _count(committed, "SELECT count(*) FROM sessions WHERE status = 'RUNNING'") == 0
    closed = "SELECT count(*) FROM sessions WHERE stop_reason = 'issue_closed'"
    assert await _count(committed, closed) == 2
