"""Corrections after the fact: PATCH (goal, note, effective time) and DELETE."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from app.clock import Clock
from tests.api.conftest import ApiUser, error_of, start


async def ended(client: AsyncClient, user: ApiUser, frozen: Clock, **extra: Any) -> int:
    session = await start(client, user, **extra)
    frozen.advance(3000)
    response = await client.post(f"/api/timelogs/{session['id']}/stop/", headers=user.headers)
    assert response.status_code == 200
    session_id: int = session["id"]
    return session_id


async def patch(client: AsyncClient, user: ApiUser, session_id: int, **body: Any) -> Any:
    return await client.patch(f"/api/timelogs/{session_id}/", json=body, headers=user.headers)


async def test_patch_effective_duration_1_20_gives_4800(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session_id = await ended(client, alice, frozen)

    response = await patch(client, alice, session_id, effective_duration="1:20")

    assert response.status_code == 200
    body = response.json()
    assert body["effective_seconds"] == 4800
    assert body["effective_override_seconds"] == 4800
    assert body["active_duration"] == 4800.0
    assert body["measured_seconds"] == 3000
    assert body["status"] == "ENDED_UNCONFIRMED"


@pytest.mark.parametrize("value", ["garbage", "", "-5m", "1:75", "25h", "1h 2x"])
async def test_patch_unparseable_duration_is_422_and_changes_nothing(
    client: AsyncClient, alice: ApiUser, frozen: Clock, value: str
) -> None:
    session_id = await ended(client, alice, frozen)

    response = await patch(client, alice, session_id, goal="changed", effective_duration=value)

    assert response.status_code == 422
    assert "1h 20m" in error_of(response)[1]
    after = (await client.get(f"/api/timelogs/{session_id}/", headers=alice.headers)).json()
    assert after["effective_override_seconds"] is None
    assert after["goal"] is None


async def test_patch_effective_seconds(client: AsyncClient, alice: ApiUser, frozen: Clock) -> None:
    session_id = await ended(client, alice, frozen)

    response = await patch(client, alice, session_id, effective_seconds=1800)

    assert response.status_code == 200
    assert response.json()["effective_seconds"] == 1800


@pytest.mark.parametrize("value", [-1, 86401, 1.5, "1800", True])
async def test_patch_bad_effective_seconds_is_422(
    client: AsyncClient, alice: ApiUser, frozen: Clock, value: Any
) -> None:
    session_id = await ended(client, alice, frozen)

    response = await patch(client, alice, session_id, effective_seconds=value)

    assert response.status_code == 422


async def test_patch_both_duration_forms_is_422(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session_id = await ended(client, alice, frozen)

    response = await patch(
        client, alice, session_id, effective_duration="1h", effective_seconds=3600
    )

    assert response.status_code == 422


async def test_patch_time_of_a_running_session_is_409(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice)

    response = await patch(client, alice, session["id"], effective_duration="1h")

    assert response.status_code == 409
    assert "Clock out first" in error_of(response)[1]


async def test_patch_time_of_a_confirmed_session_is_allowed_here(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session_id = await ended(client, alice, frozen)
    await client.post(f"/api/timelogs/{session_id}/confirm/", headers=alice.headers)

    response = await patch(client, alice, session_id, effective_duration="45m")

    assert response.status_code == 200
    assert response.json()["effective_seconds"] == 2700
    assert response.json()["status"] == "ENDED_CONFIRMED"


async def test_patch_goal_and_note_together_and_clear_them(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice, goal="old")

    changed = await patch(client, alice, session["id"], goal="  new   goal ", note="a note")
    assert changed.status_code == 200
    assert changed.json()["goal"] == "new goal"
    assert changed.json()["note"] == "a note"
    assert changed.json()["status"] == "RUNNING"

    cleared = await patch(client, alice, session["id"], goal=None, note="")
    assert cleared.json()["goal"] is None
    assert cleared.json()["note"] is None


async def test_patch_with_unchanged_values_is_still_200(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice, goal="same")

    response = await patch(client, alice, session["id"], goal="same")
    empty = await patch(client, alice, session["id"])

    assert response.status_code == 200
    assert empty.status_code == 200
    assert empty.json()["goal"] == "same"


async def test_patch_with_a_malformed_body_is_422(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice)

    not_json = await client.patch(
        f"/api/timelogs/{session['id']}/",
        content=b"{not json",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    a_list = await client.patch(
        f"/api/timelogs/{session['id']}/", json=[1, 2], headers=alice.headers
    )

    assert not_json.status_code == 422
    assert a_list.status_code == 422


async def test_delete_is_204_then_404(client: AsyncClient, alice: ApiUser, frozen: Clock) -> None:
    session_id = await ended(client, alice, frozen)

    deleted = await client.delete(f"/api/timelogs/{session_id}/", headers=alice.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""

    for method in ("GET", "DELETE"):
        response = await client.request(
            method, f"/api/timelogs/{session_id}/", headers=alice.headers
        )
        assert response.status_code == 404
    listed = (await client.get("/api/timelogs/", headers=alice.headers)).json()
    assert listed["count"] == 0


async def test_deleting_the_active_session_frees_the_timer(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice)

    await client.delete(f"/api/timelogs/{session['id']}/", headers=alice.headers)

    assert (await client.get("/api/timelogs/current/", headers=alice.headers)).status_code == 204
    await start(client, alice, "again")
