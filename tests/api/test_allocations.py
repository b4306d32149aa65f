"""The week report, planning hours per subject, and the caller's own settings and subjects."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from app.clock import Clock
from tests.api.conftest import ApiUser, error_of, start

REPORT_KEYS = {
    "week_start",
    "timezone",
    "subjects",
    "total_allocated_seconds",
    "total_tracked_seconds",
}
ROW_KEYS = {"subject", "allocated_seconds", "tracked_seconds", "remaining_seconds", "unplanned"}


async def plan(
    client: AsyncClient, user: ApiUser, subject: str, hours: Any, query: str = ""
) -> Any:
    return await client.put(
        f"/api/allocations/{subject}{query}", json={"hours": hours}, headers=user.headers
    )


async def test_the_week_report_has_the_contract_shape(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice, "search_engine")
    frozen.advance(5400)
    await client.post(f"/api/timelogs/{session['id']}/stop/", headers=alice.headers)

    response = await plan(client, alice, "search_engine", 6)

    assert response.status_code == 200
    assert response.json() == {
        "week_start": "2026-11-16",
        "timezone": "Australia/Sydney",
        "subjects": [
            {
                "subject": "search_engine",
                "allocated_seconds": 21600,
                "tracked_seconds": 5400,
                "remaining_seconds": 16200,
                "unplanned": False,
            }
        ],
        "total_allocated_seconds": 21600,
        "total_tracked_seconds": 5400,
    }
    assert (await client.get("/api/allocations/", headers=alice.headers)).json() == response.json()


async def test_tracked_time_includes_the_running_session_and_unplanned_subjects(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    await plan(client, alice, "planned", 2)
    await start(client, alice, "spontaneous")
    frozen.advance(600)

    body = (await client.get("/api/allocations/", headers=alice.headers)).json()

    assert set(body) == REPORT_KEYS
    by_subject = {row["subject"]: row for row in body["subjects"]}
    assert all(set(row) == ROW_KEYS for row in body["subjects"])
    assert by_subject["planned"]["tracked_seconds"] == 0
    assert by_subject["planned"]["remaining_seconds"] == 7200
    assert by_subject["spontaneous"] == {
        "subject": "spontaneous",
        "allocated_seconds": 0,
        "tracked_seconds": 600,
        "remaining_seconds": 0,
        "unplanned": True,
    }
    assert body["total_tracked_seconds"] == 600


async def test_zero_hours_removes_the_plan(client: AsyncClient, alice: ApiUser) -> None:
    await plan(client, alice, "docs", 1.5)

    response = await plan(client, alice, "Docs", 0)

    assert response.status_code == 200
    assert response.json()["subjects"] == []


@pytest.mark.parametrize("hours", [0, 0.25, 168])
async def test_hours_at_the_bounds_are_accepted(
    client: AsyncClient, alice: ApiUser, hours: float
) -> None:
    assert (await plan(client, alice, "x", hours)).status_code == 200


@pytest.mark.parametrize("hours", [-0.01, -1, 168.01, 1e308, "many", None, [], {"h": 1}])
async def test_hours_outside_0_to_168_are_422(
    client: AsyncClient, alice: ApiUser, hours: Any
) -> None:
    response = await plan(client, alice, "x", hours)

    assert response.status_code == 422
    assert error_of(response)[0] == "invalid_input"


@pytest.mark.parametrize("raw", [b'{"hours": NaN}', b'{"hours": Infinity}', b"{}", b"nope"])
async def test_non_numbers_for_hours_are_422(
    client: AsyncClient, alice: ApiUser, raw: bytes
) -> None:
    response = await client.put(
        "/api/allocations/x",
        content=raw,
        headers={**alice.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422


async def test_a_subject_with_a_slash_is_one_subject(client: AsyncClient, alice: ApiUser) -> None:
    response = await plan(client, alice, "octo-org%2Fhello-world", 3)

    assert response.status_code == 200
    assert [row["subject"] for row in response.json()["subjects"]] == ["octo-org/hello-world"]


async def test_any_day_of_a_week_selects_that_week(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    await plan(client, alice, "next week", 4, "?week=2026-11-29")

    this_week = (await client.get("/api/allocations/", headers=alice.headers)).json()
    next_week = (
        await client.get("/api/allocations/?week=2026-11-25", headers=alice.headers)
    ).json()

    assert this_week["week_start"] == "2026-11-16"
    assert this_week["subjects"] == []
    assert next_week["week_start"] == "2026-11-23"
    assert next_week["subjects"][0]["allocated_seconds"] == 4 * 3600


@pytest.mark.parametrize(
    "week", ["2026-02-30", "last week", "20261118", "0001-01-01", "9999-12-31"]
)
async def test_a_bad_week_is_422(client: AsyncClient, alice: ApiUser, week: str) -> None:
    response = await client.get(f"/api/allocations/?week={week}", headers=alice.headers)

    assert response.status_code == 422
    error_of(response)


async def test_me_shows_the_caller_and_changes_the_timezone(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    me = await client.get("/api/me", headers=alice.headers)
    assert me.status_code == 200
    assert set(me.json()) == {
        "id",
        "username",
        "timezone",
        "github_login",
        "remind_after_minutes",
        "weekly_summary",
        "created_at",
    }
    assert me.json()["timezone"] == "Australia/Sydney"

    changed = await client.patch(
        "/api/me", json={"timezone": "America/Los_Angeles"}, headers=alice.headers
    )
    assert changed.status_code == 200
    assert changed.json()["timezone"] == "America/Los_Angeles"

    # 01:00 UTC on Wednesday the 18th is still Tuesday the 17th in Los Angeles: same week.
    week = (await client.get("/api/allocations/", headers=alice.headers)).json()
    assert week["timezone"] == "America/Los_Angeles"
    assert week["week_start"] == "2026-11-16"


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "",
        "../etc/passwd",
        "UTC\u0000",
        5,
        # Files of the tz database that name no place: `localtime` is the server's own clock.
        "localtime",
        "Factory",
        "posixrules",
        "posix/Europe/Berlin",
        "right/UTC",
    ],
)
async def test_an_invalid_timezone_is_422(
    client: AsyncClient, alice: ApiUser, zone: object
) -> None:
    response = await client.patch("/api/me", json={"timezone": zone}, headers=alice.headers)

    assert response.status_code == 422
    assert (await client.get("/api/me", headers=alice.headers)).json()["timezone"] == (
        "Australia/Sydney"
    )


async def test_an_empty_patch_changes_nothing(client: AsyncClient, alice: ApiUser) -> None:
    response = await client.patch("/api/me", json={}, headers=alice.headers)

    assert response.status_code == 200
    assert response.json()["timezone"] == "Australia/Sydney"


async def test_subjects_are_yours_most_recently_used_first(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    for subject in ("older", "newer"):
        session = await start(client, alice, subject)
        await client.post(f"/api/timelogs/{session['id']}/stop/", headers=alice.headers)
        frozen.advance(60)
    await plan(client, alice, "planned only", 1)
    await start(client, bob, "bob's")

    response = await client.get("/api/subjects/", headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == {
        "results": [{"name": "newer"}, {"name": "older"}, {"name": "planned only"}]
    }
