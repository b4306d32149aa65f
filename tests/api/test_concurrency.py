"""Races through the API against real commits: serialised by the user's row lock, never 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from server.router import app
from server.transaction import get_db

USER = "600000000000000001"


@pytest_asyncio.fixture(loop_scope="session")
async def http(committed: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncClient]:
    assert get_db not in app.dependency_overrides
    async with committed() as db, db.begin():
        _, token = await accounts.create_api_token(db, USER, "race")
    async with AsyncClient(
        transport=ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


async def test_simultaneous_starts_give_one_session_and_409s(http: AsyncClient) -> None:
    responses = await asyncio.gather(
        *(http.post("/api/timelogs/start/", json={"subject": f"s{n}"}) for n in range(6))
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 409, 409, 409, 409, 409]
    listed = (await http.get("/api/timelogs/?active=true")).json()
    assert listed["count"] == 1


async def test_simultaneous_clicks_on_one_session_never_fail(http: AsyncClient) -> None:
    session = (await http.post("/api/timelogs/start/", json={"subject": "x"})).json()
    path = f"/api/timelogs/{session['id']}"

    responses = await asyncio.gather(
        *(http.post(f"{path}/{action}/") for action in ("pause", "pause", "stop", "resume"))
    )

    assert all(response.status_code in (200, 409) for response in responses)
    final = (await http.get(f"{path}/")).json()
    assert final["status"] == "ENDED_UNCONFIRMED"
    assert final["paused_seconds"] >= 0
