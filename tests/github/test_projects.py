"""projects_v2_item.edited: one GraphQL look-up, then start on "In Progress", stop on "Done"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app import session as sessions
from app import webhook_secrets
from app.config import get_settings
from app.issues import IssueRef
from app.models import SessionSource
from tests.github.conftest import GITHUB_API, Hook, delivery_rows, link, payload, session_row

TOKEN = "ghp_token_for_tests"
ITEM_NODE = "PVTI_lADOAWcTxs07G84AVqWu"
STATUS_FIELD = "PVTF_lADOAWcTxs07G84AAali"
REPO = "Octocoders/hello-world"
URL = f"https://github.com/{REPO}/issues/7"
ISSUE = IssueRef(REPO, 7, URL)


def item_event(
    *, to: str | None = None, field_name: str | None = "Status", content_type: str = "Issue"
) -> dict[str, Any]:
    """The real projects_v2_item.edited payload, made about an issue's status change.

    With `field_name=None` it keeps the older shape (field node id and type only).
    """
    body = payload("projects_v2_item.edited")
    body["projects_v2_item"]["content_type"] = content_type
    body["projects_v2_item"]["content_node_id"] = "I_kwDOAWcTxs5issue"
    change = body["changes"]["field_value"]
    if field_name is not None:
        change["field_name"] = field_name
    if to is not None:
        change["from"] = {"id": "f1", "name": "Todo", "color": "GRAY", "description": ""}
        change["to"] = {"id": "f2", "name": to, "color": "YELLOW", "description": ""}
    return body


def graphql_item(
    *,
    status: str | None = "In Progress",
    assignees: tuple[str, ...] = ("alice",),
    typename: str = "Issue",
    field_id: str = STATUS_FIELD,
) -> dict[str, Any]:
    content: dict[str, Any] = {"__typename": typename}
    if typename == "Issue":
        content |= {
            "number": 7,
            "title": "Add dark mode",
            "url": URL,
            "repository": {"nameWithOwner": REPO},
            "assignees": {"nodes": [{"login": login} for login in assignees]},
        }
    value = None
    if status is not None:
        value = {"name": status, "field": {"id": field_id, "name": "Status"}}
    return {"data": {"node": {"id": ITEM_NODE, "content": content, "status": value}}}


@pytest.fixture
def github_api(github_env: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    github_env.setenv("GITHUB_TOKEN", TOKEN)
    get_settings.cache_clear()
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{GITHUB_API}/graphql", name="graphql").mock(
            return_value=Response(200, json=graphql_item())
        )
        yield mock


def graphql_calls(mock: respx.MockRouter) -> list[httpx.Request]:
    return [call.request for call in mock.routes["graphql"].calls]


async def test_moving_to_in_progress_starts_the_linked_assignees_with_one_query(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    alice = await link(db, "alice")
    bob = await link(db, "bob")
    github_api.routes["graphql"].return_value = Response(
        200, json=graphql_item(assignees=("alice", "bob", "stranger"))
    )

    response = await hook.send("projects_v2_item", item_event(to="In Progress"))

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "started"
    assert len(body["session_ids"]) == 2
    assert {r["login"]: r["status"] for r in body["results"]} == {
        "alice": "started",
        "bob": "started",
    }
    assert "Not linked to timetrack: stranger." in body["detail"]
    for user_id in (alice, bob):
        current = await sessions.current(db, user_id)
        assert current is not None
        assert (current.github_repo, current.github_issue_number) == (REPO, 7)
        assert current.goal == "#7 Add dark mode"
        assert current.subject.name == REPO

    (sent,) = graphql_calls(github_api)
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    query = json.loads(sent.content)
    assert query["variables"] == {"id": ITEM_NODE, "field": "Status"}
    for part in ("node(id: $id)", "ProjectV2Item", "... on Issue", "nameWithOwner", "assignees"):
        assert part in query["query"]
    assert "fieldValueByName(name: $field)" in query["query"]
    assert "ProjectV2ItemFieldSingleSelectValue" in query["query"]


async def test_the_status_sent_in_the_payload_wins_over_the_looked_up_one(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    alice = await link(db, "alice")
    # By the time we ask, the item has moved on; the event is about the move to Done.
    github_api.routes["graphql"].return_value = Response(
        200, json=graphql_item(status="In Progress")
    )
    started = await sessions.clock_in(
        db, alice, REPO, "#7", source=SessionSource.GITHUB, issue=ISSUE
    )

    response = await hook.send("projects_v2_item", item_event(to="Done"))

    assert response.json()["status"] == "stopped"
    row = await session_row(db, started.id)
    assert (row["status"], row["stop_reason"]) == ("ENDED_UNCONFIRMED", "project_done")


async def test_older_payloads_take_the_status_from_the_query(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    alice = await link(db, "alice")

    response = await hook.send("projects_v2_item", item_event(field_name=None))

    assert response.json()["status"] == "started"
    assert await sessions.current(db, alice) is not None


async def test_older_payloads_about_another_field_are_ignored(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    alice = await link(db, "alice")
    github_api.routes["graphql"].return_value = Response(
        200, json=graphql_item(field_id="PVTF_some_other_field")
    )

    response = await hook.send("projects_v2_item", item_event(field_name=None))

    assert response.json()["status"] == "ignored"
    assert await sessions.current(db, alice) is None


async def test_moving_to_done_clocks_out_only_sessions_on_that_issue(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    alice = await link(db, "alice")
    bob = await link(db, "bob")
    github_api.routes["graphql"].return_value = Response(
        200, json=graphql_item(status="Done", assignees=("alice", "bob"))
    )
    on_issue = await sessions.clock_in(
        db, alice, REPO, "#7", source=SessionSource.GITHUB, issue=ISSUE
    )
    elsewhere = await sessions.clock_in(db, bob, "Thesis", None, source=SessionSource.WEB)

    response = await hook.send("projects_v2_item", item_event(to="Done"))

    body = response.json()
    assert body["status"] == "stopped"
    assert body["session_ids"] == [on_issue.id]
    assert {r["login"]: r["status"] for r in body["results"]} == {
        "alice": "stopped",
        "bob": "noop",
    }
    assert (await session_row(db, on_issue.id))["stop_reason"] == "project_done"
    assert (await session_row(db, elsewhere.id))["status"] == "RUNNING"


async def test_status_names_come_from_the_settings(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter, github_env: pytest.MonkeyPatch
) -> None:
    github_env.setenv("GITHUB_PROJECT_START_STATUS", "Doing")
    get_settings.cache_clear()
    alice = await link(db, "alice")

    ignored = await hook.send("projects_v2_item", item_event(to="In Progress"))
    started = await hook.send("projects_v2_item", item_event(to="doing"))

    assert ignored.json()["status"] == "ignored"
    assert started.json()["status"] == "started"
    assert await sessions.current(db, alice) is not None
    assert len(graphql_calls(github_api)) == 1  # the ignored move needed no look-up


async def test_other_statuses_are_ignored_without_a_query(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    await link(db, "alice")
    response = await hook.send("projects_v2_item", item_event(to="In Review"))
    assert response.json()["status"] == "ignored"
    assert graphql_calls(github_api) == []


@pytest.mark.parametrize("content_type", ["DraftIssue", "PullRequest"])
async def test_draft_issues_and_pull_requests_are_ignored_without_a_query(
    hook: Hook, github_api: respx.MockRouter, content_type: str
) -> None:
    response = await hook.send("projects_v2_item", item_event(content_type=content_type))
    assert response.json()["status"] == "ignored"
    assert graphql_calls(github_api) == []


async def test_the_real_fixture_a_draft_issue_is_ignored(
    hook: Hook, github_api: respx.MockRouter
) -> None:
    response = await hook.send("projects_v2_item", payload("projects_v2_item.edited"))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert graphql_calls(github_api) == []


@pytest.mark.parametrize("typename", ["DraftIssue", "PullRequest"])
async def test_content_that_turns_out_not_to_be_an_issue_is_ignored(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter, typename: str
) -> None:
    alice = await link(db, "alice")
    github_api.routes["graphql"].return_value = Response(200, json=graphql_item(typename=typename))

    response = await hook.send("projects_v2_item", item_event(to="In Progress"))

    assert response.json()["status"] == "ignored"
    assert typename in response.json()["detail"]
    assert await sessions.current(db, alice) is None


async def test_changes_to_other_fields_are_ignored(
    hook: Hook, github_api: respx.MockRouter
) -> None:
    body = item_event(field_name="Priority", to="High")
    response = await hook.send("projects_v2_item", body)
    assert response.json()["status"] == "ignored"
    assert graphql_calls(github_api) == []


@pytest.mark.parametrize("action", ["created", "archived", "reordered"])
async def test_other_item_actions_are_ignored(
    hook: Hook, github_api: respx.MockRouter, action: str
) -> None:
    body = item_event(to="In Progress")
    body["action"] = action
    response = await hook.send("projects_v2_item", body)
    assert response.json()["status"] == "ignored"


async def test_an_issue_without_linked_assignees_is_unlinked(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    github_api.routes["graphql"].return_value = Response(
        200, json=graphql_item(assignees=("stranger",))
    )
    response = await hook.send("projects_v2_item", item_event(to="In Progress"))
    assert response.json()["status"] == "unlinked"


async def test_an_issue_without_assignees_is_ignored(
    hook: Hook, github_api: respx.MockRouter
) -> None:
    github_api.routes["graphql"].return_value = Response(200, json=graphql_item(assignees=()))
    response = await hook.send("projects_v2_item", item_event(to="In Progress"))
    assert response.json()["status"] == "ignored"


async def test_without_a_token_project_moves_are_acknowledged_and_skipped(
    hook: Hook, db: AsyncSession
) -> None:
    alice = await link(db, "alice")
    with respx.mock(assert_all_called=False) as anything:
        response = await hook.send("projects_v2_item", item_event(to="In Progress"))

    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert "GITHUB_TOKEN" in response.json()["detail"]
    assert not anything.calls
    assert await sessions.current(db, alice) is None


async def test_an_item_without_a_node_id_is_400(hook: Hook, github_api: respx.MockRouter) -> None:
    body = item_event(to="In Progress")
    del body["projects_v2_item"]["node_id"]
    response = await hook.send("projects_v2_item", body)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "failure",
    [
        Response(502, text="Bad gateway"),
        Response(401, json={"message": "Bad credentials"}),
        Response(200, text="<html>"),
        Response(
            200,
            json={
                "data": {"node": None},
                "errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a node"}],
            },
        ),
        httpx.ConnectTimeout("slow"),
    ],
)
async def test_lookup_failures_are_502_and_a_redelivery_runs_again(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter, failure: Any
) -> None:
    alice = await link(db, "alice")
    route = github_api.routes["graphql"]
    if isinstance(failure, Exception):
        route.side_effect = failure
    else:
        route.return_value = failure

    failed = await hook.send("projects_v2_item", item_event(to="In Progress"), delivery="p-1")

    assert failed.status_code == 502
    assert failed.json()["error"] == "bad_gateway"
    assert "Nothing changed" in failed.json()["detail"]
    assert await sessions.current(db, alice) is None
    assert [(r["status_code"], r["succeeded"]) for r in await delivery_rows(db)] == [(502, False)]

    route.side_effect = None
    route.return_value = Response(200, json=graphql_item())
    redelivered = await hook.send("projects_v2_item", item_event(to="In Progress"), delivery="p-1")

    assert redelivered.status_code == 200
    assert redelivered.json()["status"] == "started"
    assert [(r["status_code"], r["succeeded"]) for r in await delivery_rows(db)] == [(200, True)]
    again = await hook.send("projects_v2_item", item_event(to="In Progress"), delivery="p-1")
    assert again.json()["status"] == "duplicate"


async def test_a_move_signed_with_an_organisations_secret_acts_only_inside_it(
    hook: Hook, db: AsyncSession, github_api: respx.MockRouter
) -> None:
    await link(db, "alice")
    _, outsider = await webhook_secrets.add(db, org="someone-else")
    _, insider = await webhook_secrets.add(db, org=REPO.split("/")[0])

    refused = await hook.send("projects_v2_item", item_event(to="In Progress"), secret=outsider)
    accepted = await hook.send("projects_v2_item", item_event(to="In Progress"), secret=insider)

    assert refused.status_code == 403
    assert REPO in refused.json()["detail"]
    assert accepted.json()["status"] == "started"
    assert [r["status_code"] for r in await delivery_rows(db)] == [403, 200]
