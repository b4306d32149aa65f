"""Personal tokens: `Token <t>` or `Bearer <t>`; missing, unknown or revoked is 401."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from app.clock import Clock
from app.models import ApiToken
from server.router import app
from tests.api.conftest import ApiUser, error_of, start
from tests.ops.conftest import run_timetrack

# Every REST route, with a body that would be valid, so only authentication can fail.
ROUTES = [
    ("GET", "/api/me", None),
    ("PATCH", "/api/me", {"timezone": "UTC"}),
    ("GET", "/api/subjects/", None),
    ("GET", "/api/timelogs/", None),
    ("GET", "/api/timelogs/current/", None),
    ("GET", "/api/timelogs/export.csv", None),
    ("POST", "/api/timelogs/start/", {"subject": "x"}),
    ("POST", "/api/timelogs/1/pause/", None),
    ("POST", "/api/timelogs/1/resume/", None),
    ("POST", "/api/timelogs/1/stop/", None),
    ("POST", "/api/timelogs/1/confirm/", None),
    ("POST", "/api/timelogs/1/reopen/", None),
    ("GET", "/api/timelogs/1/", None),
    ("PATCH", "/api/timelogs/1/", {"goal": "x"}),
    ("DELETE", "/api/timelogs/1/", None),
    ("GET", "/api/allocations/", None),
    ("PUT", "/api/allocations/x", {"hours": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_needs_a_token(
    client: AsyncClient, method: str, path: str, body: object
) -> None:
    response = await client.request(method, path, json=body)

    assert response.status_code == 401
    assert error_of(response)[0] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Token")


BODY_ROUTES = [(method, path) for method, path, body in ROUTES if body is not None]
UNREADABLE_BODIES = [b"{not json", b"\xff\xfe", b"[" * 5000, b'{"subject": "x"']


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("body", UNREADABLE_BODIES, ids=["syntax", "bytes", "deep", "cut"])
async def test_a_stranger_with_an_unreadable_body_is_401_not_422(
    client: AsyncClient, method: str, path: str, body: bytes
) -> None:
    headers = {"Content-Type": "application/json"}

    stranger = await client.request(method, path, content=body, headers=headers)
    wrong_token = await client.request(
        method, path, content=body, headers={**headers, "Authorization": "Token tt_nope"}
    )

    for response in (stranger, wrong_token):
        assert response.status_code == 401
        assert error_of(response)[0] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("body", UNREADABLE_BODIES, ids=["syntax", "bytes", "deep", "cut"])
async def test_a_signed_in_caller_with_an_unreadable_body_is_422(
    client: AsyncClient, alice: ApiUser, method: str, path: str, body: bytes
) -> None:
    headers = {"Content-Type": "application/json", **alice.headers}

    response = await client.request(method, path, content=body, headers=headers)

    assert response.status_code == 422
    assert error_of(response) == ("invalid_input", "The body is not valid JSON.")


async def test_an_unreadable_optional_body_is_refused_not_taken_as_empty(
    client: AsyncClient, alice: ApiUser
) -> None:
    started = await start(client, alice)
    headers = {"Content-Type": "application/json", **alice.headers}

    response = await client.post(
        f"/api/timelogs/{started['id']}/stop/", content=b"{oops", headers=headers
    )

    assert response.status_code == 422
    current = await client.get("/api/timelogs/current/", headers=alice.headers)
    assert current.json()["status"] == "RUNNING"


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
async def test_both_schemes_authenticate(client: AsyncClient, alice: ApiUser, scheme: str) -> None:
    response = await client.get("/api/me", headers={"Authorization": f"{scheme} {alice.token}"})

    assert response.status_code == 200
    assert response.json()["id"] == alice.id


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
async def test_an_unknown_token_is_401(client: AsyncClient, alice: ApiUser, scheme: str) -> None:
    for token in ("tt_not-a-real-token", alice.token[:-1], "no-prefix-at-all"):
        response = await client.get("/api/me", headers={"Authorization": f"{scheme} {token}"})

        assert response.status_code == 401
        assert "unknown or has been revoked" in error_of(response)[1]


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
async def test_a_revoked_token_is_401(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, scheme: str
) -> None:
    headers = {"Authorization": f"{scheme} {alice.token}"}
    assert (await client.get("/api/timelogs/", headers=headers)).status_code == 200

    await accounts.revoke_api_token(db, alice.token_id)
    # Committed, so a request that fails (and rolls back) cannot undo the revocation.
    await db.commit()

    for method, path, body in ROUTES:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path)


@pytest.mark.parametrize(
    "header",
    ["", "Token", "Token   ", "Basic dXNlcjpwYXNz", "tt_abc", "Bearer\ttt_abc\x00"],
)
async def test_a_malformed_authorization_header_is_401(client: AsyncClient, header: str) -> None:
    response = await client.get("/api/me", headers={"Authorization": header})

    assert response.status_code == 401
    error_of(response)


async def test_a_token_records_when_it_was_last_used(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, frozen: Clock
) -> None:
    await client.get("/api/me", headers=alice.headers)

    token = await db.get(ApiToken, alice.token_id)
    assert token is not None
    await db.refresh(token)
    assert token.last_used_at == frozen.now()
    assert alice.token not in token.token_hash


async def test_a_token_needs_no_csrf_header(client: AsyncClient, alice: ApiUser) -> None:
    response = await client.post(
        "/api/timelogs/start/", json={"subject": "script"}, headers=alice.headers
    )

    assert response.status_code == 201
    assert response.json()["source"] == "api"


async def test_revoking_from_the_command_line_takes_effect_on_the_next_request(
    committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async with committed() as db, db.begin():
        token, plain = await accounts.create_api_token(db, "100000000000000009", "laptop")
    headers = {"Authorization": f"Token {plain}"}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/api/me", headers=headers)).status_code == 200

        revoked = run_timetrack(
            "token", "revoke", str(token.id), env={"DATABASE_URL": database_url}
        )

        assert revoked.returncode == 0, revoked.stderr
        assert (await http.get("/api/me", headers=headers)).status_code == 401
