"""Callers of the REST API: users with personal tokens, inside the test's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts


@dataclass(frozen=True)
class ApiUser:
    id: str
    token: str
    token_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


async def make_user(db: AsyncSession, user_id: str) -> ApiUser:
    token, plain = await accounts.create_api_token(db, user_id, "tests")
    # Committed (to a savepoint of the test's transaction), so a request that fails and
    # rolls back does not take the user and token with it.
    await db.commit()
    return ApiUser(id=user_id, token=plain, token_id=token.id)


@pytest_asyncio.fixture(loop_scope="session")
async def alice(db: AsyncSession) -> ApiUser:
    return await make_user(db, "100000000000000001")


@pytest_asyncio.fixture(loop_scope="session")
async def bob(db: AsyncSession) -> ApiUser:
    return await make_user(db, "100000000000000002")


async def start(
    client: AsyncClient, user: ApiUser, subject: str = "search_engine", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/timelogs/start/", json={"subject": subject, **extra}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: Response) -> tuple[str, str]:
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["detail"]
    return body["error"], body["detail"]
