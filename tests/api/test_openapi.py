"""The API describes itself: every REST route declares its errors with one Error schema."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

REST_PREFIXES = (
    "/api/timelogs",
    "/api/me",
    "/api/subjects",
    "/api/allocations",
    "/api/reports",
    "/api/teams",
)


async def rest_operations(client: AsyncClient) -> tuple[dict[str, Any], list[Any]]:
    spec = (await client.get("/openapi.json")).json()
    operations = [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        if path.startswith(REST_PREFIXES)
        for method, operation in item.items()
    ]
    return spec, operations


async def test_every_rest_route_in_the_contract_is_documented(client: AsyncClient) -> None:
    _, operations = await rest_operations(client)

    assert {(method, path) for method, path, _ in operations} == {
        ("GET", "/api/me"),
        ("PATCH", "/api/me"),
        ("GET", "/api/subjects/"),
        ("GET", "/api/timelogs/"),
        ("GET", "/api/timelogs/current/"),
        ("GET", "/api/timelogs/export.csv"),
        ("POST", "/api/timelogs/"),
        ("POST", "/api/timelogs/start/"),
        *(
            ("POST", f"/api/timelogs/{{session_id}}/{action}/")
            for action in ("pause", "resume", "stop", "confirm", "reopen")
        ),
        ("GET", "/api/timelogs/{session_id}/"),
        ("PATCH", "/api/timelogs/{session_id}/"),
        ("DELETE", "/api/timelogs/{session_id}/"),
        ("GET", "/api/allocations/"),
        ("PUT", "/api/allocations/{subject}"),
        ("GET", "/api/reports/summary"),
        ("GET", "/api/reports/summary.csv"),
        ("GET", "/api/teams/"),
        ("POST", "/api/teams/"),
        ("POST", "/api/teams/join/{token}"),
        ("GET", "/api/teams/{team_id}/"),
        ("PATCH", "/api/teams/{team_id}/"),
        ("POST", "/api/teams/{team_id}/invites/"),
        ("DELETE", "/api/teams/{team_id}/members/{user_id}"),
        ("PATCH", "/api/teams/{team_id}/members/{user_id}"),
        ("GET", "/api/teams/{team_id}/report"),
    }


async def test_every_error_answer_uses_the_error_schema(client: AsyncClient) -> None:
    spec, operations = await rest_operations(client)

    assert spec["components"]["schemas"]["Error"]["required"] == ["error", "detail"]
    for method, path, operation in operations:
        responses = operation["responses"]
        assert {"401", "403", "503"} <= set(responses), (method, path)
        if "{session_id}" in path or "{team_id}" in path:
            assert {"404", "422"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)


async def test_state_changes_declare_409(client: AsyncClient) -> None:
    _, operations = await rest_operations(client)

    for method, path, operation in operations:
        if method == "POST" or (method == "PATCH" and "{session_id}" in path):
            assert "409" in operation["responses"], (method, path)


async def test_the_docs_are_served(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text
