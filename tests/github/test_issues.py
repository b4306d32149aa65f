"""The issue rules with GitHub's real payloads: assigned, unassigned, closed."""

from __future__ import annotations

import pytest
import respx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import session as sessions
from app.clock import Clock
from app.issues import IssueRef
from app.models import SessionSource, SessionStatus
from tests.github.conftest import (
    GOAL,
    ISSUE,
    LABEL,
    Hook,
    assigned,
    count_sessions,
    dm_bodies,
    link,
    on_issue,
    payload,
    retarget,
    session_row,
    track_issue,
)

# --- issues.assigned ---------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["issues.assigned", "issues.assigned.with-organization"])
@pytest.mark.parametrize("path", ["/api/github/webhook", "/api/github-timer-webhook/"])
async def test_assignment_of_a_linked_login_starts_a_session_on_the_issue(
    hook: Hook, db: AsyncSession, frozen: Clock, fixture: str, path: str
) -> None:
    user_id = await link(db, "octo-dev")

    response = await hook.send("issues", assigned("octo-dev", fixture), path=path)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "started"
    assert "octo-dev" in body["detail"]
    row = await session_row(db, body["session_id"])
    assert row["user_id"] == user_id
    assert row["status"] == "RUNNING"
    assert row["source"] == "github"
    assert row["goal"] == GOAL
    assert row["started_at"] == frozen.now()
    assert (row["github_repo"], row["github_issue_number"], row["github_issue_url"]) == (
        ISSUE.repo,
        ISSUE.number,
        ISSUE.url,
    )
    current = await sessions.current(db, user_id)
    assert current is not None and current.subject.name == "Codertocat/Hello-World"


async def test_logins_match_ignoring_case(hook: Hook, db: AsyncSession) -> None:
    await link(db, "OctoDev")
    response = await hook.send("issues", assigned("octodev"))
    assert response.json()["status"] == "started"


async def test_assignment_of_an_unknown_login_is_unlinked_and_creates_nothing(
    hook: Hook, db: AsyncSession
) -> None:
    await link(db, "someone-else")
    users_before = await db.scalar(text("SELECT count(*) FROM users"))

    response = await hook.send("issues", assigned("Codertocat"))

    assert response.status_code == 200
    assert response.json()["status"] == "unlinked"
    assert "Codertocat" in response.json()["detail"]
    assert await count_sessions(db) == 0
    assert await db.scalar(text("SELECT count(*) FROM users")) == users_before


async def test_the_sender_does_not_matter_only_the_assignee(hook: Hook, db: AsyncSession) -> None:
    user_id = await link(db, "assignee-login")
    await link(db, "sender-login")
    body = retarget(payload("issues.assigned"), "assignee-login", sender="sender-login")

    response = await hook.send("issues", body)

    started = await session_row(db, response.json()["session_id"])
    assert started["user_id"] == user_id


async def test_assignment_resumes_a_paused_session_on_the_same_issue(
    hook: Hook, db: AsyncSession, frozen: Clock
) -> None:
    user_id = await link(db, "Codertocat")
    session_id = await track_issue(db, user_id, paused=True)
    frozen.advance(600)

    response = await hook.send("issues", assigned())

    assert response.json()["status"] == "resumed"
    assert response.json()["session_id"] == session_id
    row = await session_row(db, session_id)
    assert row["status"] == "RUNNING"
    assert row["total_paused_seconds"] == 600


async def test_assignment_while_running_on_the_same_issue_is_a_noop(
    hook: Hook, db: AsyncSession
) -> None:
    user_id = await link(db, "Codertocat")
    session_id = await track_issue(db, user_id)

    response = await hook.send("issues", assigned())

    assert response.json()["status"] == "noop"
    assert response.json()["session_id"] == session_id
    assert await count_sessions(db) == 1


async def test_assignment_while_tracking_something_else_leaves_it_and_records_an_offer(
    hook: Hook, db: AsyncSession
) -> None:
    user_id = await link(db, "Codertocat")
    other = await sessions.clock_in(db, user_id, "Thesis", "chapter 2", source=SessionSource.WEB)

    response = await hook.send("issues", assigned(), delivery="offer-1")

    body = response.json()
    assert body["status"] == "skipped"
    assert "session_id" not in body
    assert "Thesis" not in body["detail"]  # GitHub's delivery log must not see private names
    assert body["switch"] == {
        "repo": ISSUE.repo,
        "number": 1,
        "url": ISSUE.url,
        "title": "Spelling error in the README file",
        "logins": ["Codertocat"],
    }
    current = await sessions.current(db, user_id)
    assert current is not None and current.id == other.id
    assert current.status == SessionStatus.RUNNING


async def test_long_titles_and_repository_names_are_trimmed_to_fit(
    hook: Hook, db: AsyncSession
) -> None:
    user_id = await link(db, "Codertocat")
    repo = "an-organisation-with-a-long-name/" + "r" * 90
    body = on_issue(assigned(), number=4242, repo=repo)
    body["issue"]["title"] = "Fix   the\nthing " + "x" * 300

    response = await hook.send("issues", body)

    assert response.json()["status"] == "started"
    row = await session_row(db, response.json()["session_id"])
    assert len(row["goal"]) == 200
    assert row["goal"].startswith("#4242 Fix the thing xxx")
    assert row["goal"].endswith("…")
    assert row["github_repo"] == repo  # the issue itself keeps the full name
    current = await sessions.current(db, user_id)
    assert current is not None
    assert len(current.subject.name) == 64 and repo.startswith(current.subject.name[:-1])


@pytest.mark.parametrize(
    "html_url",
    [
        "javascript:alert(document.cookie)",
        "https://github.com/Codertocat/Hello-World/issues/1)[click](https://evil.example)",
        "https://evil.example/Codertocat/Hello-World/issues/1",
        "https://github.com.evil.example/Codertocat/Hello-World/issues/1",
        "http://github.com/Codertocat/Hello-World/issues/1",
        "https://github.com/Codertocat/Hello-World/issues/2",
        "https://github.com/someone-else/Hello-World/issues/1",
        "https://github.com/Codertocat/Hello-World/pull/1",
    ],
    ids=[
        "javascript",
        "masked-link",
        "other-host",
        "look-alike-host",
        "http",
        "other-number",
        "other-repo",
        "pull-request",
    ],
)
async def test_an_issue_link_that_is_not_the_issues_own_github_address_is_kept_as_text(
    hook: Hook, db: AsyncSession, discord_bot: respx.MockRouter, html_url: str
) -> None:
    await link(db, "Codertocat")
    body = assigned()
    body["issue"]["html_url"] = html_url

    response = await hook.send("issues", body)

    assert response.json()["status"] == "started"
    row = await session_row(db, response.json()["session_id"])
    assert (row["github_repo"], row["github_issue_number"]) == (ISSUE.repo, ISSUE.number)
    assert row["github_issue_url"] is None
    (card,) = dm_bodies(discord_bot)
    shown = card["embeds"][0]["description"]
    assert f"🔗 {LABEL}\n" in shown
    assert "](" not in shown and "evil" not in shown and "javascript" not in shown


async def test_an_issue_address_in_another_accepted_form_is_stored_canonical(
    hook: Hook, db: AsyncSession
) -> None:
    await link(db, "Codertocat")
    body = assigned()
    body["issue"]["html_url"] = "https://www.github.com/codertocat/hello-world/issues/1#top"

    response = await hook.send("issues", body)

    row = await session_row(db, response.json()["session_id"])
    assert row["github_issue_url"] == "https://github.com/codertocat/hello-world/issues/1"


# --- issues.unassigned -------------------------------------------------------------------


async def test_unassignment_clocks_out_the_session_on_that_issue(
    hook: Hook, db: AsyncSession, frozen: Clock
) -> None:
    user_id = await link(db, "Codertocat")
    session_id = await track_issue(db, user_id)
    frozen.advance(1800)

    response = await hook.send("issues", retarget(payload("issues.unassigned"), "Codertocat"))

    assert response.json()["status"] == "stopped"
    assert response.json()["session_id"] == session_id
    row = await session_row(db, session_id)
    assert row["status"] == "ENDED_UNCONFIRMED"
    assert row["stop_reason"] == "unassigned"
    assert row["ended_at"] == frozen.now()


async def test_unassignment_leaves_a_session_on_another_issue_alone(
    hook: Hook, db: AsyncSession
) -> None:
    user_id = await link(db, "Codertocat")
    session_id = await track_issue(db, user_id)
    body = on_issue(retarget(payload("issues.unassigned"), "Codertocat"), number=2)

    response = await hook.send("issues", body)

    assert response.json()["status"] == "noop"
    assert (await session_row(db, session_id))["status"] == "RUNNING"


async def test_unassignment_of_an_unknown_login_is_unlinked(hook: Hook, db: AsyncSession) -> None:
    response = await hook.send("issues", retarget(payload("issues.unassigned"), "stranger"))
    assert response.json()["status"] == "unlinked"


# --- issues.closed -----------------------------------------------------------------------


async def test_closing_clocks_out_every_session_on_the_issue_and_nothing_else(
    hook: Hook, db: AsyncSession, frozen: Clock
) -> None:
    alice = await link(db, "alice")
    bob = await link(db, "bob")
    carol = await link(db, "carol")
    alice_session = await track_issue(db, alice)
    bob_session = await track_issue(db, bob, paused=True)
    elsewhere = await sessions.clock_in(
        db,
        carol,
        ISSUE.repo,
        "#2",
        source=SessionSource.GITHUB,
        issue=IssueRef(ISSUE.repo, 2, ISSUE.url[:-1] + "2"),
    )
    frozen.advance(60)

    response = await hook.send("issues", payload("issues.closed"))

    body = response.json()
    assert body["status"] == "stopped"
    assert sorted(body["session_ids"]) == sorted([alice_session, bob_session])
    assert {r["login"] for r in body["results"]} == {"alice", "bob"}
    for session_id in (alice_session, bob_session):
        row = await session_row(db, session_id)
        assert (row["status"], row["stop_reason"]) == ("ENDED_UNCONFIRMED", "issue_closed")
    assert (await session_row(db, bob_session))["total_paused_seconds"] == 60
    assert (await session_row(db, elsewhere.id))["status"] == "RUNNING"


async def test_closing_an_issue_nobody_tracks_is_a_noop(hook: Hook, db: AsyncSession) -> None:
    response = await hook.send("issues", payload("issues.closed"))
    assert response.json()["status"] == "noop"
    assert response.json()["session_ids"] == []


async def test_closing_a_second_time_is_a_noop(hook: Hook, db: AsyncSession) -> None:
    user_id = await link(db, "Codertocat")
    await track_issue(db, user_id)
    assert (await hook.send("issues", payload("issues.closed"))).json()["status"] == "stopped"
    assert (await hook.send("issues", payload("issues.closed"))).json()["status"] == "noop"
