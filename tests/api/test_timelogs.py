"""The timer API (BLT's shape, our codes): start, pause, resume, stop, confirm, reopen, read."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from app.clock import Clock
from app.config import get_settings
from tests.api.conftest import ApiUser, error_of, start

SESSION_KEYS = {
    "id",
    "subject",
    "goal",
    "note",
    "status",
    "is_paused",
    "source",
    "started_at",
    "ended_at",
    "pause_started_at",
    "paused_seconds",
    "measured_seconds",
    "effective_seconds",
    "effective_override_seconds",
    "active_duration",
    "github_repo",
    "github_issue_number",
    "github_issue_url",
    "stop_reason",
    "created_at",
    "updated_at",
}


async def act(client: AsyncClient, user: ApiUser, session_id: int, action: str, **body: Any) -> Any:
    return await client.post(
        f"/api/timelogs/{session_id}/{action}/", headers=user.headers, json=body or None
    )


async def test_start_answers_201_with_the_contract_shape(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    body = await start(client, alice, "search_engine", goal="finish web scraper")

    assert set(body) == SESSION_KEYS
    assert body["subject"] == "search_engine"
    assert body["goal"] == "finish web scraper"
    assert body["status"] == "RUNNING"
    assert body["is_paused"] is False
    assert body["source"] == "api"
    assert body["started_at"] == "2026-11-18T01:00:00Z"
    assert body["ended_at"] is None
    assert body["active_duration"] == 0.0
    assert body["github_repo"] is None


async def test_second_start_is_409_and_names_the_active_session(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    first = await start(client, alice, "search_engine")

    response = await client.post(
        "/api/timelogs/start/", json={"subject": "other"}, headers=alice.headers
    )

    assert response.status_code == 409
    code, detail = error_of(response)
    assert code == "conflict"
    assert f"session {first['id']}" in detail


@pytest.mark.parametrize(
    "body",
    [{}, {"goal": "no subject"}, {"subject": ""}, {"subject": "   "}, {"subject": None}],
)
async def test_start_without_a_subject_is_422(
    client: AsyncClient, alice: ApiUser, body: dict[str, Any]
) -> None:
    response = await client.post("/api/timelogs/start/", json=body, headers=alice.headers)

    assert response.status_code == 422
    assert error_of(response)[0] == "invalid_input"


@pytest.mark.parametrize(
    "body",
    [
        {"subject": "bad\u0000name"},
        {"subject": "x", "goal": "nul \u0000 inside"},
        {"subject": "x" * 65},
        {"subject": "x", "goal": "g" * 201},
    ],
)
async def test_start_refuses_text_postgres_cannot_or_should_not_store(
    client: AsyncClient, alice: ApiUser, body: dict[str, Any]
) -> None:
    response = await client.post("/api/timelogs/start/", json=body, headers=alice.headers)

    assert response.status_code == 422


async def test_start_refuses_an_unpaired_surrogate(client: AsyncClient, alice: ApiUser) -> None:
    raw = b'{"subject": "\\ud800"}'
    response = await client.post(
        "/api/timelogs/start/",
        content=raw,
        headers={**alice.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422


async def test_start_with_a_github_issue_url_fills_the_issue_fields(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    body = await start(
        client,
        alice,
        "octo-org/hello-world",
        github_issue_url="https://github.com/octo-org/hello-world/issues/12#issuecomment-1",
    )

    assert body["github_repo"] == "octo-org/hello-world"
    assert body["github_issue_number"] == 12
    assert body["github_issue_url"] == "https://github.com/octo-org/hello-world/issues/12"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/octo-org/hello-world/pull/12",
        "https://gitlab.com/o/r/issues/1",
        "github.com/o/r/issues/1",
        "https://github.com/o/r/issues/0",
        "https://github.com/o/r/issues/99999999999999999999",
        "not a url",
    ],
)
async def test_start_with_a_malformed_issue_url_is_422(
    client: AsyncClient, alice: ApiUser, url: str
) -> None:
    response = await client.post(
        "/api/timelogs/start/",
        json={"subject": "x", "github_issue_url": url},
        headers=alice.headers,
    )

    assert response.status_code == 422
    assert "github.com/owner/repo/issues/12" in error_of(response)[1]


async def test_an_empty_issue_url_means_none(client: AsyncClient, alice: ApiUser) -> None:
    body = await start(client, alice, "x", github_issue_url="  ")

    assert body["github_issue_url"] is None


async def test_pause_and_resume_are_200_and_409_in_the_wrong_state(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice)
    frozen.advance(600)

    paused = await act(client, alice, session["id"], "pause")
    assert paused.status_code == 200
    assert paused.json()["status"] == "PAUSED"
    assert paused.json()["is_paused"] is True
    assert paused.json()["pause_started_at"] == "2026-11-18T01:10:00Z"

    again = await act(client, alice, session["id"], "pause")
    assert again.status_code == 409
    assert error_of(again) == ("conflict", "Already paused.")

    frozen.advance(300)
    while_paused = await client.get(f"/api/timelogs/{session['id']}/", headers=alice.headers)
    assert while_paused.json()["paused_seconds"] == 300
    assert while_paused.json()["effective_seconds"] == 600

    resumed = await act(client, alice, session["id"], "resume")
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "RUNNING"
    assert resumed.json()["paused_seconds"] == 300

    again = await act(client, alice, session["id"], "resume")
    assert again.status_code == 409
    assert error_of(again)[1] == "Already running."


async def test_stop_confirm_and_the_times_come_from_server_timestamps(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice, goal="draft")
    frozen.advance(3000)
    await act(client, alice, session["id"], "pause")
    frozen.advance(600)

    stopped = await act(client, alice, session["id"], "stop", purpose="wrote the parser")
    assert stopped.status_code == 200
    body = stopped.json()
    assert body["status"] == "ENDED_UNCONFIRMED"
    assert body["goal"] == "wrote the parser"
    assert body["stop_reason"] == "user"
    assert body["ended_at"] == "2026-11-18T02:00:00Z"
    assert body["measured_seconds"] == 3600
    assert body["paused_seconds"] == 600
    assert body["effective_seconds"] == 3000
    assert body["active_duration"] == 3000.0

    assert (await act(client, alice, session["id"], "stop")).status_code == 409
    assert (await act(client, alice, session["id"], "pause")).status_code == 409
    assert (await act(client, alice, session["id"], "resume")).status_code == 409

    confirmed = await act(client, alice, session["id"], "confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "ENDED_CONFIRMED"
    again = await act(client, alice, session["id"], "confirm")
    assert again.status_code == 409
    assert error_of(again)[1] == "Already confirmed."
    assert (await act(client, alice, session["id"], "reopen")).status_code == 409


async def test_stop_without_a_body_keeps_the_goal(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice, goal="keep me")

    response = await client.post(f"/api/timelogs/{session['id']}/stop/", headers=alice.headers)

    assert response.status_code == 200
    assert response.json()["goal"] == "keep me"


async def test_confirm_while_running_is_409(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    session = await start(client, alice)

    response = await act(client, alice, session["id"], "confirm")

    assert response.status_code == 409
    assert "Clock out" in error_of(response)[1]


async def test_reopen_counts_the_gap_as_paused_and_refuses_while_another_is_active(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    first = await start(client, alice, "one")
    frozen.advance(1200)
    await act(client, alice, first["id"], "stop")
    second = await start(client, alice, "two")

    blocked = await act(client, alice, first["id"], "reopen")
    assert blocked.status_code == 409
    assert "two" in error_of(blocked)[1]

    await act(client, alice, second["id"], "stop")
    frozen.advance(300)
    reopened = await act(client, alice, first["id"], "reopen")
    assert reopened.status_code == 200
    body = reopened.json()
    assert body["status"] == "RUNNING"
    assert body["ended_at"] is None
    assert body["paused_seconds"] == 300
    assert body["effective_seconds"] == 1200

    again = await act(client, alice, first["id"], "reopen")
    assert again.status_code == 409
    assert error_of(again)[1] == "Already running."


async def test_current_is_204_when_idle_and_200_with_the_active_session(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    idle = await client.get("/api/timelogs/current/", headers=alice.headers)
    assert idle.status_code == 204
    assert idle.content == b""

    session = await start(client, alice)
    frozen.advance(90)
    active = await client.get("/api/timelogs/current/", headers=alice.headers)
    assert active.status_code == 200
    assert active.json()["id"] == session["id"]
    assert active.json()["effective_seconds"] == 90
    assert active.json()["active_duration"] == 90.0

    await act(client, alice, session["id"], "stop")
    assert (await client.get("/api/timelogs/current/", headers=alice.headers)).status_code == 204


async def test_someone_elses_session_is_404_for_every_verb(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    theirs = await start(client, bob, "bob's work", goal="secret")
    path = f"/api/timelogs/{theirs['id']}/"
    missing = "/api/timelogs/999999/"

    for target in (path, missing):
        calls = [
            client.get(target, headers=alice.headers),
            client.patch(target, json={"goal": "mine now"}, headers=alice.headers),
            client.patch(target, json={}, headers=alice.headers),
            client.patch(target, json={"effective_duration": "1:20"}, headers=alice.headers),
            client.delete(target, headers=alice.headers),
            *(
                client.post(f"{target}{action}/", headers=alice.headers)
                for action in ("pause", "resume", "stop", "confirm", "reopen")
            ),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 404, (response.request.method, response.request.url)
            assert error_of(response) == ("not_found", "No session with that id.")
            assert "bob" not in response.text

    still = await client.get(path, headers=bob.headers)
    assert still.status_code == 200
    assert still.json()["status"] == "RUNNING"
    assert still.json()["goal"] == "secret"


@pytest.mark.parametrize(
    "path",
    [
        "/api/timelogs/abc/",
        "/api/timelogs/1.5/",
        "/api/timelogs/-1/",
        "/api/timelogs/0/",
        "/api/timelogs/99999999999999999999999/",
        "/api/timelogs/abc/pause/",
        "/api/timelogs/99999999999999999999999/stop/",
    ],
)
async def test_ids_that_are_not_session_ids_are_404_or_422_never_500(
    client: AsyncClient, alice: ApiUser, path: str
) -> None:
    method = "POST" if path.count("/") == 5 else "GET"

    response = await client.request(method, path, headers=alice.headers)

    assert response.status_code in (404, 422)
    error_of(response)


async def test_list_returns_only_your_own_newest_first(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    mine = []
    for subject in ("one", "two"):
        session = await start(client, alice, subject)
        frozen.advance(60)
        await act(client, alice, session["id"], "stop")
        mine.append(session["id"])
    await start(client, bob, "bob's")

    response = await client.get("/api/timelogs/", headers=alice.headers)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == list(reversed(mine))
    assert body["next"] is None
    assert body["previous"] is None


async def test_list_filters_by_active_status_and_subject(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    ended = await start(client, alice, "Search_Engine")
    frozen.advance(60)
    await act(client, alice, ended["id"], "stop")
    running = await start(client, alice, "docs")

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/api/timelogs/?{query}", headers=alice.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["results"]]

    assert await ids("active=true") == [running["id"]]
    assert await ids("active=false") == [ended["id"]]
    assert await ids("status=ENDED_UNCONFIRMED") == [ended["id"]]
    assert await ids("status=RUNNING") == [running["id"]]
    assert await ids("status=PAUSED") == []
    assert await ids("subject=search_engine") == [ended["id"]]
    assert await ids("subject=docs&active=false") == []


@pytest.mark.parametrize(
    "query", ["status=DONE", "active=maybe", "limit=0", "limit=x", "offset=-1", "subject=%00"]
)
async def test_list_refuses_bad_filters_with_422(
    client: AsyncClient, alice: ApiUser, query: str
) -> None:
    response = await client.get(f"/api/timelogs/?{query}", headers=alice.headers)

    assert response.status_code == 422
    error_of(response)


def page_link(query: str) -> str:
    """An absolute link to a page of the list, on the service's public URL."""
    return f"{get_settings().base_url}/api/timelogs/?{query}"


async def test_page_links_use_the_public_url_not_the_host_asked_for(
    client: AsyncClient, alice: ApiUser, settings_env: pytest.MonkeyPatch, frozen: Clock
) -> None:
    settings_env.setenv("TIMETRACK_BASE_URL", "https://timetrack.example")
    get_settings.cache_clear()
    for index in range(3):
        session = await start(client, alice, f"s{index}")
        await act(client, alice, session["id"], "stop")

    body = (
        await client.get(
            "/api/timelogs/?limit=1&offset=1",
            headers={**alice.headers, "Host": "attacker.example", "X-Forwarded-Host": "evil"},
        )
    ).json()

    assert body["next"] == "https://timetrack.example/api/timelogs/?limit=1&offset=2"
    assert body["previous"] == "https://timetrack.example/api/timelogs/?limit=1"


async def test_list_paginates_with_absolute_next_and_previous(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    for index in range(5):
        session = await start(client, alice, f"s{index}")
        frozen.advance(60)
        await act(client, alice, session["id"], "stop")

    first = (await client.get("/api/timelogs/?limit=2", headers=alice.headers)).json()
    assert first["count"] == 5
    assert [item["subject"] for item in first["results"]] == ["s4", "s3"]
    assert first["previous"] is None
    assert first["next"] == page_link("limit=2&offset=2")

    second = (await client.get(first["next"], headers=alice.headers)).json()
    assert [item["subject"] for item in second["results"]] == ["s2", "s1"]
    assert second["previous"] == page_link("limit=2")
    assert second["next"] == page_link("limit=2&offset=4")

    last = (await client.get(second["next"], headers=alice.headers)).json()
    assert [item["subject"] for item in last["results"]] == ["s0"]
    assert last["next"] is None
    assert last["previous"] == page_link("limit=2&offset=2")


async def test_list_pagination_keeps_the_filters(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    for _ in range(3):
        session = await start(client, alice, "same")
        frozen.advance(60)
        await act(client, alice, session["id"], "stop")

    body = (
        await client.get("/api/timelogs/?subject=same&active=false&limit=1", headers=alice.headers)
    ).json()

    assert body["next"] == page_link("subject=same&active=false&limit=1&offset=1")


async def test_list_defaults_to_20_and_caps_the_page_at_100(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    for index in range(21):
        session = await start(client, alice, f"s{index}")
        await act(client, alice, session["id"], "stop")

    default = (await client.get("/api/timelogs/", headers=alice.headers)).json()
    assert len(default["results"]) == 20
    assert default["next"] == page_link("limit=20&offset=20")

    capped = await client.get("/api/timelogs/?limit=1000", headers=alice.headers)
    assert capped.status_code == 200
    assert len(capped.json()["results"]) == 21
    assert capped.json()["next"] is None


async def test_beyond_the_last_page_is_empty(client: AsyncClient, alice: ApiUser) -> None:
    body = (await client.get("/api/timelogs/?offset=50", headers=alice.headers)).json()

    assert body["results"] == []
    assert body["count"] == 0
    assert body["previous"] == page_link("limit=20&offset=30")
