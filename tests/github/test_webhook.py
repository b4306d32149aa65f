"""POST /api/github/webhook: the secret, the signature, the body, dedupe, what is ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app import health
from app import session as sessions
from app.clock import Clock
from app.config import get_settings
from server.body_limit import DEFAULT_MAX_BYTES
from server.integrations.github.router import MAX_BODY_BYTES
from tests.bodies import Streamed, assert_too_large
from tests.github.conftest import (
    Hook,
    assigned,
    count_sessions,
    delivery_rows,
    link,
    payload,
    sign,
)

# --- The door: secret, signature, body ----------------------------------------------------


async def test_ping_answers_pong_and_counts_as_a_delivery(hook: Hook, db: AsyncSession) -> None:
    response = await hook.send("ping", payload("ping"), delivery="ping-1")

    assert response.status_code == 200
    assert response.json()["status"] == "pong"
    rows = await delivery_rows(db)
    assert [(r["event_id"], r["succeeded"]) for r in rows] == [("ping-1", True)]


@pytest.mark.parametrize("path", ["/api/github/webhook", "/api/github-timer-webhook/"])
async def test_unset_secret_is_503(
    client: AsyncClient, settings_env: pytest.MonkeyPatch, path: str
) -> None:
    settings_env.delenv("GITHUB_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()

    response = await Hook(client).send("ping", payload("ping"), path=path)

    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "sha1=0123",  # GitHub's old header format is not accepted
        "sha256=" + "0" * 64,
        "sha256=nothex",
        sign(b"another body"),
    ],
)
async def test_a_missing_or_wrong_signature_is_401_and_changes_nothing(
    hook: Hook, db: AsyncSession, signature: str
) -> None:
    user_id = await link(db, "Codertocat")

    response = await hook.send("issues", assigned(), signature=signature)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert await sessions.current(db, user_id) is None
    assert await delivery_rows(db) == []


async def test_a_signature_made_with_another_secret_is_401(hook: Hook) -> None:
    response = await hook.send("issues", assigned(), secret="not-the-secret")
    assert response.status_code == 401


async def test_the_signature_header_may_be_absent_altogether(
    client: AsyncClient, hook: Hook
) -> None:
    body = json.dumps(payload("ping")).encode()
    response = await client.post(
        "/api/github/webhook", content=body, headers={"X-GitHub-Event": "ping"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("body", [b"not json", b'{"action": ', b"\xff\xfe", b""])
async def test_a_signed_body_that_is_not_json_is_400_and_counted_as_failed(
    hook: Hook, db: AsyncSession, body: bytes
) -> None:
    response = await hook.send("issues", body, delivery="broken-1")

    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "The body is not JSON."}
    rows = await delivery_rows(db)
    assert [(r["event_id"], r["status_code"], r["succeeded"]) for r in rows] == [
        ("broken-1", 400, False)
    ]


def _nul_in_login(body: dict[str, Any]) -> None:
    body["assignee"]["login"] = "Codertocat\x00"


def _nul_in_url(body: dict[str, Any]) -> None:
    body["issue"]["html_url"] = "https://github.com/Codertocat/Hello-World/issues/1\x00"


def _nul_in_title(body: dict[str, Any]) -> None:
    body["issue"]["title"] = "Spelling\x00"


def _nul_in_action(body: dict[str, Any]) -> None:
    body["action"] = "labeled\x00"


def _huge_number(body: dict[str, Any]) -> None:
    body["issue"]["number"] = 2**31


def _negative_number(body: dict[str, Any]) -> None:
    body["issue"]["number"] = -1


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (_nul_in_login, "assignee.login"),
        (_nul_in_url, "issue.html_url"),
        (_nul_in_title, "issue.title"),
        (_nul_in_action, "action"),
        (_huge_number, "issue.number"),
        (_negative_number, "issue.number"),
    ],
)
async def test_a_signed_payload_the_database_cannot_hold_is_400_and_counted_as_failed(
    hook: Hook, db: AsyncSession, frozen: Clock, breakage: Any, where: str
) -> None:
    user_id = await link(db, "Codertocat")
    body = assigned()
    breakage(body)

    response = await hook.send("issues", body, delivery="unstorable-1")

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert response.json()["error"] == "bad_request"
    assert detail.startswith(f"The payload is malformed at {where}:")
    assert "\n" not in detail
    assert await sessions.current(db, user_id) is None
    rows = await delivery_rows(db)
    assert [(r["event_id"], r["status_code"], r["succeeded"]) for r in rows] == [
        ("unstorable-1", 400, False)
    ]
    assert (await health.report(db))["webhooks_24h"]["success_rate"] == 0.0


async def test_a_signed_project_move_with_a_nul_is_400(hook: Hook) -> None:
    body = payload("projects_v2_item.edited")
    body["changes"] = {"field_value": {"field_name": "Status", "to": {"name": "Done\x00"}}}

    response = await hook.send("projects_v2_item", body)

    assert response.status_code == 400
    assert "changes.field_value.to" in response.json()["detail"]


async def test_a_signed_body_nested_too_deeply_is_400_and_counted_as_failed(
    hook: Hook, db: AsyncSession
) -> None:
    response = await hook.send("issues", b"[" * 5000 + b"]" * 5000, delivery="deep-1")

    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request",
        "detail": "The body is nested too deeply to read.",
    }
    rows = await delivery_rows(db)
    assert [(r["event_id"], r["status_code"], r["succeeded"]) for r in rows] == [
        ("deep-1", 400, False)
    ]


async def test_a_json_body_that_is_not_an_object_is_400(hook: Hook) -> None:
    response = await hook.send("issues", b"[1, 2]")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("breakage", "missing"),
    [
        (lambda p: p["issue"].pop("number"), "issue.number"),
        (lambda p: p["issue"].pop("html_url"), "issue.html_url"),
        (lambda p: p.pop("repository"), "repository.full_name"),
        (lambda p: p["repository"].pop("full_name"), "repository.full_name"),
        (lambda p: p.pop("issue"), "issue.number, issue.html_url"),
    ],
)
async def test_an_issues_event_without_its_issue_fields_is_400(
    hook: Hook, db: AsyncSession, breakage: Any, missing: str
) -> None:
    user_id = await link(db, "Codertocat")
    body = assigned()
    breakage(body)

    response = await hook.send("issues", body)

    assert response.status_code == 400
    assert missing in response.json()["detail"]
    assert await sessions.current(db, user_id) is None
    assert [r["succeeded"] for r in await delivery_rows(db)] == [False]


async def test_an_issue_number_of_the_wrong_type_is_400(hook: Hook) -> None:
    body = assigned()
    body["issue"]["number"] = "one"
    response = await hook.send("issues", body)
    assert response.status_code == 400
    assert "issue.number" in response.json()["detail"]


async def test_an_assignment_without_an_assignee_is_400(hook: Hook) -> None:
    body = assigned()
    body.pop("assignee")
    response = await hook.send("issues", body)
    assert response.status_code == 400
    assert "assignee.login" in response.json()["detail"]


# --- Dedupe ------------------------------------------------------------------------------


async def test_a_repeated_delivery_is_a_duplicate_and_changes_nothing(
    hook: Hook, db: AsyncSession, frozen: Clock
) -> None:
    user_id = await link(db, "Codertocat")
    first = await hook.send("issues", assigned(), delivery="d-1")
    session_id = first.json()["session_id"]
    await sessions.clock_out(db, user_id, session_id)

    again = await hook.send("issues", assigned(), delivery="d-1")

    assert again.status_code == 200
    body = again.json()
    assert body["status"] == "duplicate"
    assert body["session_id"] == session_id
    assert body["original"] == first.json()
    assert await sessions.current(db, user_id) is None  # not started a second time
    assert await count_sessions(db) == 1
    assert len(await delivery_rows(db)) == 1


async def test_a_new_delivery_of_the_same_event_is_judged_afresh(
    hook: Hook, db: AsyncSession
) -> None:
    await link(db, "Codertocat")
    first = await hook.send("issues", assigned(), delivery="d-1")
    second = await hook.send("issues", assigned(), delivery="d-2")
    assert first.json()["status"] == "started"
    assert second.json()["status"] == "noop"
    assert second.json()["session_id"] == first.json()["session_id"]


# --- What is ignored ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "fixture"),
    [
        ("issues", "issues.opened"),
        ("issues", "issues.reopened"),
        ("issue_comment", "issue_comment.created"),
        ("star", "ping"),
    ],
)
async def test_other_events_and_actions_are_ignored(
    hook: Hook, db: AsyncSession, event: str, fixture: str
) -> None:
    await link(db, "Codertocat")

    response = await hook.send(event, payload(fixture))

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert await count_sessions(db) == 0
    assert [r["succeeded"] for r in await delivery_rows(db)] == [True]


async def test_an_issue_that_is_really_a_pull_request_is_ignored(
    hook: Hook, db: AsyncSession
) -> None:
    await link(db, "Codertocat")
    body = assigned()
    body["issue"]["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}

    response = await hook.send("issues", body)

    assert response.json()["status"] == "ignored"
    assert await count_sessions(db) == 0


async def test_a_delivery_may_be_far_larger_than_other_bodies(hook: Hook) -> None:
    body = assigned("nobody-linked")
    body["issue"]["body"] = "x" * (2 * DEFAULT_MAX_BYTES)

    response = await hook.send("issues", body)

    assert response.status_code == 200
    assert response.json()["status"] == "unlinked"


@pytest.mark.parametrize("path", ["/api/github/webhook", "/api/github-timer-webhook/"])
async def test_a_delivery_over_25_mib_is_413_without_being_read(
    client: AsyncClient, github_env: pytest.MonkeyPatch, path: str
) -> None:
    body = Streamed(MAX_BODY_BYTES + 1)

    response = await client.post(
        path,
        content=body.chunks(),
        headers={
            "Content-Length": str(body.size),
            "X-GitHub-Event": "issues",
            "X-Hub-Signature-256": sign(b""),
        },
    )

    assert_too_large(response, "25 MiB")
    assert body.pulled == 0


# --- Health ------------------------------------------------------------------------------


async def test_health_counts_failed_deliveries(hook: Hook, db: AsyncSession, frozen: Clock) -> None:
    await hook.send("ping", payload("ping"))
    await hook.send("issues", b"nope")
    await hook.send("issues", assigned(), signature="sha256=00")  # unsigned: not counted

    report = await health.report(db)

    assert report["webhooks_24h"]["deliveries"] == 2
    assert report["webhooks_24h"]["success_rate"] == 0.5
