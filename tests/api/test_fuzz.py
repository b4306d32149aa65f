"""No REST route answers 5xx, whatever it is sent: schemathesis over our own OpenAPI.

schemathesis generates valid and invalid requests from /openapi.json; they are sent in
process (httpx over ASGI, on the test's event loop) with a real token, against real
PostgreSQL with real commits. Every answer must be below 500 and one the route declares.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import schemathesis
from httpx import ASGITransport, AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, teams
from app import session as sessions
from app.models import SessionSource
from server.router import app
from server.transaction import get_db

OUR_ROUTES = r"^/api/(timelogs|me|subjects|allocations|reports|teams)"
SCHEMA = schemathesis.openapi.from_dict(app.openapi()).include(path_regex=OUR_ROUTES)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
FUZZ_USER = "300000000000000001"
# 25 routes; about 25 requests each keeps the run short. Set TIMETRACK_FUZZ_EXAMPLES for a
# deeper search before a release.
EXAMPLES_PER_ROUTE = int(os.environ.get("TIMETRACK_FUZZ_EXAMPLES", "25"))


class Fuzzer:
    def __init__(self, http: AsyncClient, token: str, session_ids: list[int]) -> None:
        self.http = http
        self.headers = {"Authorization": f"Token {token}"}
        self.session_ids = session_ids

    async def send(self, case: schemathesis.Case) -> Any:
        sent = case.as_transport_kwargs(base_url="http://testserver", headers=self.headers)
        request: dict[str, Any] = {
            "method": sent["method"],
            "url": sent["url"],
            "headers": sent["headers"],
            "params": sent.get("params"),
        }
        if "json" in sent:
            request["json"] = sent["json"]
        elif sent.get("data") is not None:
            request["content"] = sent["data"]
        return await self.http.request(**request)


@pytest_asyncio.fixture(loop_scope="session")
async def fuzzer(committed: async_sessionmaker[AsyncSession]) -> AsyncIterator[Fuzzer]:
    assert get_db not in app.dependency_overrides
    async with committed() as db, db.begin():
        _, token = await accounts.create_api_token(db, FUZZ_USER, "fuzz")
        # Real sessions in every state, so generated ids sometimes hit something.
        ids = []
        for subject in ("ended", "confirmed", "running"):
            session = await sessions.clock_in(db, FUZZ_USER, subject, source=SessionSource.API)
            if subject != "running":
                await sessions.clock_out(db, FUZZ_USER, session.id)
            if subject == "confirmed":
                await sessions.confirm(db, FUZZ_USER, session.id)
            ids.append(session.id)
        # A team of the fuzzer's, so that generated team ids sometimes find one.
        await teams.create(db, FUZZ_USER, "Fuzz")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield Fuzzer(http, token, ids)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
async def test_no_route_answers_5xx(operation: Any, fuzzer: Fuzzer) -> None:
    # hypothesis runs synchronously in a worker thread; each request is sent on this test's
    # event loop, where the app's database pool lives, and the thread waits for the answer.
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), data=st.data())
    def check(case: schemathesis.Case, data: st.DataObject) -> None:
        if "session_id" in (case.path_parameters or {}):
            case.path_parameters["session_id"] = data.draw(
                st.sampled_from([*fuzzer.session_ids, case.path_parameters["session_id"]])
            )
        response = asyncio.run_coroutine_threadsafe(fuzzer.send(case), loop).result(timeout=30)
        assert response.status_code < 500, (case.as_curl_command(), response.text)
        assert str(response.status_code) in operation.definition.raw["responses"], (
            case.as_curl_command(),
            response.status_code,
            response.text,
        )

    await asyncio.to_thread(check)
