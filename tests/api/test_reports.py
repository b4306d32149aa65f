"""Manual entries (`POST /api/timelogs/`, times in `PATCH`) and reports
(`/api/reports/summary` and `.csv`) over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from tests.api.conftest import ApiUser, error_of, make_user, start

# The frozen clock is Wednesday 18 November 2026, 12:00 in Sydney (the users' timezone).
MONDAY = "2026-11-16"


def sydney(day: int, clock: str) -> str:
    """An instant of November 2026 in Sydney (UTC+11), as ISO 8601 with its offset."""
    if clock.count(":") == 1:
        clock += ":00"
    return f"2026-11-{day}T{clock}+11:00"


def entry(start_at: str, end_at: str, **extra: Any) -> dict[str, Any]:
    return {"subject": "Thesis", "started_at": start_at, "ended_at": end_at, **extra}


async def add(client: AsyncClient, user: ApiUser, body: dict[str, Any]) -> Any:
    return await client.post("/api/timelogs/", json=body, headers=user.headers)


async def test_an_entry_is_201_with_the_session(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    response = await add(
        client,
        alice,
        entry(
            sydney(16, "23:00"),
            sydney(17, "01:00"),
            paused_seconds=1200,
            goal="chapter 2",
            github_issue_url="https://github.com/octo-org/hello-world/issues/12",
        ),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source"] == "manual"
    assert body["status"] == "ENDED_CONFIRMED"
    assert (body["started_at"], body["ended_at"]) == (
        "2026-11-16T12:00:00Z",
        "2026-11-16T14:00:00Z",
    )
    assert (body["measured_seconds"], body["paused_seconds"], body["effective_seconds"]) == (
        7200,
        1200,
        6000,
    )
    assert body["github_issue_number"] == 12
    listed = (await client.get("/api/timelogs/", headers=alice.headers)).json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (entry(sydney(17, "10:00"), sydney(17, "10:00")), "after the start"),
        (entry(sydney(17, "10:00"), sydney(17, "09:00")), "after the start"),
        (entry(sydney(18, "11:00"), sydney(18, "13:00")), "future"),
        (entry("0001-01-01T00:00:00+00:00", "0001-01-01T01:00:00+00:00"), "on or after 1970"),
        (entry("9999-12-31T23:00:00-12:00", "9999-12-31T23:59:59-12:00"), "future"),
        (
            entry(sydney(17, "09:00"), sydney(17, "10:00"), paused_seconds=-1),
            "negative",
        ),
        (
            entry(sydney(17, "09:00"), sydney(17, "10:00"), paused_seconds=3600),
            "less than",
        ),
        (entry("2026-11-17T09:00:00", sydney(17, "10:00")), "timezone"),
        (entry("yesterday", sydney(17, "10:00")), "started_at"),
        (
            {"started_at": sydney(17, "09:00"), "ended_at": sydney(17, "10:00")},
            "subject",
        ),
    ],
)
async def test_impossible_entries_are_422(
    client: AsyncClient, alice: ApiUser, frozen: Clock, body: dict[str, Any], fragment: str
) -> None:
    response = await add(client, alice, body)
    assert response.status_code == 422
    assert fragment in error_of(response)[1]
    assert (await client.get("/api/timelogs/", headers=alice.headers)).json()["count"] == 0


async def test_an_overlap_is_409_naming_the_session(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    first = await add(client, alice, entry(sydney(17, "09:00"), sydney(17, "11:00")))
    running = await start(client, alice, "Reading")  # started now: 12:00 in Sydney

    overlapping = await add(client, alice, entry(sydney(17, "10:00"), sydney(17, "12:00")))
    with_active = await add(client, alice, entry(sydney(18, "11:59"), sydney(18, "12:00")))
    bobs = await add(client, bob, entry(sydney(17, "10:00"), sydney(17, "12:00")))

    assert overlapping.status_code == 409
    assert error_of(overlapping)[0] == "conflict"
    assert f"session {first.json()['id']}" in error_of(overlapping)[1]
    assert with_active.status_code == 201  # it ends as the running session starts
    assert bobs.status_code == 201
    frozen.advance(60)
    late = await add(client, alice, entry(sydney(18, "12:00"), sydney(18, "12:00:30")))
    assert late.status_code == 409
    assert f"session {running['id']}" in error_of(late)[1]


async def test_patching_the_times_of_an_ended_session(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    first = (await add(client, alice, entry(sydney(17, "09:00"), sydney(17, "10:00")))).json()
    second = (await add(client, alice, entry(sydney(17, "11:00"), sydney(17, "12:00")))).json()
    url = f"/api/timelogs/{second['id']}/"

    clash = await client.patch(url, json={"started_at": sydney(17, "09:30")}, headers=alice.headers)
    backwards = await client.patch(
        url, json={"ended_at": sydney(17, "10:30")}, headers=alice.headers
    )
    moved = await client.patch(
        url,
        json={"started_at": sydney(17, "10:00"), "goal": "longer"},
        headers=alice.headers,
    )

    assert clash.status_code == 409
    assert f"session {first['id']}" in error_of(clash)[1]
    assert backwards.status_code == 422
    ancient = await client.patch(
        url, json={"started_at": "0001-01-01T00:00:00+00:00"}, headers=alice.headers
    )
    assert ancient.status_code == 422
    assert moved.status_code == 200
    assert moved.json()["measured_seconds"] == 7200
    assert moved.json()["goal"] == "longer"
    running = await start(client, alice)
    active = await client.patch(
        f"/api/timelogs/{running['id']}/",
        json={"ended_at": sydney(18, "11:00")},
        headers=alice.headers,
    )
    assert active.status_code == 409


async def test_two_overlapping_entries_at_once_one_201_one_409(
    committed: async_sessionmaker[AsyncSession], frozen: Clock
) -> None:
    from server.router import app

    async with committed() as db:
        user = await make_user(db, "race-entries-user")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        responses = await asyncio.gather(
            add(http, user, entry(sydney(17, "09:00"), sydney(17, "11:00"))),
            add(http, user, entry(sydney(17, "10:00"), sydney(17, "12:00"))),
        )
    assert sorted(r.status_code for r in responses) == [201, 409]


async def test_the_summary_has_the_documented_shape(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    await add(client, alice, entry(sydney(16, "23:00"), sydney(17, "01:00")))

    by_day = await client.get(
        "/api/reports/summary",
        params={"from": MONDAY, "to": "2026-11-17", "group_by": "day"},
        headers=alice.headers,
    )
    default = await client.get("/api/reports/summary", headers=alice.headers)

    assert by_day.status_code == 200
    assert by_day.json() == {
        "from": MONDAY,
        "to": "2026-11-17",
        "timezone": "Australia/Sydney",
        "group_by": "day",
        "total_seconds": 7200,
        "groups": [
            {
                "key": MONDAY,
                "label": "Mon 16 Nov",
                "seconds": 3600,
                "sessions": 1,
                "subjects": [{"subject": "Thesis", "seconds": 3600}],
            },
            {
                "key": "2026-11-17",
                "label": "Tue 17 Nov",
                "seconds": 3600,
                "sessions": 1,
                "subjects": [{"subject": "Thesis", "seconds": 3600}],
            },
        ],
    }
    assert default.json()["from"] == MONDAY and default.json()["to"] == "2026-11-22"
    assert default.json()["group_by"] == "subject"
    assert default.json()["groups"] == [
        {"key": "Thesis", "label": "Thesis", "seconds": 7200, "sessions": 1, "subjects": None}
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-17", "to": "2026-11-16"},
        {"from": "2025-01-01", "to": "2026-01-02"},
        {"from": "16/11/2026"},
        {"group_by": "month"},
    ],
)
async def test_bad_report_parameters_are_422(
    client: AsyncClient, alice: ApiUser, frozen: Clock, params: dict[str, str]
) -> None:
    response = await client.get("/api/reports/summary", params=params, headers=alice.headers)
    assert response.status_code == 422
    error_of(response)


async def test_the_summary_is_the_callers_own(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    await add(client, alice, entry(sydney(17, "09:00"), sydney(17, "10:00")))
    bobs = (await client.get("/api/reports/summary", headers=bob.headers)).json()
    assert bobs["total_seconds"] == 0
    anonymous = await client.get("/api/reports/summary")
    assert anonymous.status_code == 401


async def test_the_summary_as_csv(client: AsyncClient, alice: ApiUser, frozen: Clock) -> None:
    await add(client, alice, entry(sydney(17, "09:00"), sydney(17, "10:30")))

    response = await client.get(
        "/api/reports/summary.csv", params={"group_by": "week"}, headers=alice.headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        'filename="timetrack-week-2026-11-16-to-2026-11-22.csv"'
        in response.headers["content-disposition"]
    )
    assert response.text == (
        "key,label,seconds,hours,duration,sessions\r\n"
        "2026-11-16,Week of 16 Nov 2026,5400,1.50,1h 30m,1\r\n"
    )
