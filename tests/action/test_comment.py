"""The Action's `comment` input end to end: the app on a real port answers a closed issue
with its team's time, and the Action posts it on the issue through a local fake of GitHub's
REST API (issue comments: list, create, update), once, editing it when closed again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts, entries, teams
from app.clock import clock
from app.issues import IssueRef
from tests.action.conftest import run_forward, serving
from tests.github.conftest import payload
from tests.local_http import serving as serving_locally

pytestmark = pytest.mark.usefixtures("action_env")

REPO = "Codertocat/Hello-World"
ISSUE = IssueRef(REPO, 1, f"https://github.com/{REPO}/issues/1")
TOKEN = "ghs_workflow-token-for-tests"
MARKER = "<!-- timetrack:issue-summary -->"


@dataclass
class FakeGitHub:
    """Issue comments as GitHub's REST API keeps them, and every request it was sent."""

    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    next_id: int = 1000

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if headers["Authorization"] != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}
        sent = json.loads(body) if body else None
        self.requests.append((method, path, sent))
        route = path.split("?")[0].removeprefix(f"/repos/{REPO}/issues/").split("/")
        if method == "GET" and route[1:] == ["comments"]:
            return 200, self.comments.get(int(route[0]), [])
        if method == "POST" and route[1:] == ["comments"]:
            self.next_id += 1
            made = {"id": self.next_id, "body": sent["body"]}
            self.comments.setdefault(int(route[0]), []).append(made)
            return 201, made
        if method == "PATCH" and route[0] == "comments":
            for found in (c for thread in self.comments.values() for c in thread):
                if found["id"] == int(route[1]):
                    found["body"] = sent["body"]
                    return 200, found
        return 404, {"message": "Not Found"}


@pytest.fixture
def github() -> Iterator[tuple[str, FakeGitHub]]:
    fake = FakeGitHub()
    with serving_locally(fake.handle) as base:
        yield base, fake


async def a_connected_team(committed: async_sessionmaker[AsyncSession]) -> None:
    """Two linked members of a team connected to the repository's owner, with time on #1."""
    async with committed() as db, db.begin():
        await accounts.link_github(db, "member-alice", "Codertocat")
        await accounts.link_github(db, "member-bob", "octocat")
        created = await teams.create(db, "member-alice", "Hello team")
        await teams.update(db, "member-alice", created.team.id, github_owner="Codertocat")
        url, _ = await teams.create_invite(db, "member-alice", created.team.id)
        await teams.join_by_invite(db, "member-bob", url.rsplit("/", 1)[1])
        end = clock.now() - timedelta(days=1)
        for user_id, minutes in (("member-alice", 120), ("member-bob", 80)):
            start = end - timedelta(minutes=minutes)
            await entries.add(db, user_id, "Hello", start, end, issue=ISSUE)


def close(base: str, api: str, tmp_path: Path, **env: str) -> Any:
    runner = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api, "GITHUB_REPOSITORY": REPO}
    return run_forward(
        "issues", payload("issues.closed"), tmp_path, TIMETRACK_ENDPOINT=base, **(runner | env)
    )


async def test_the_summary_is_one_comment_edited_when_the_issue_closes_again(
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    github: tuple[str, FakeGitHub],
) -> None:
    api, fake = github
    await a_connected_team(committed)
    fake.comments[1] = [{"id": 7, "body": "Someone else's comment"}]

    with serving(database_url) as base:
        silent = close(base, api, tmp_path)  # comment defaults to false
        first = close(base, api, tmp_path, TIMETRACK_COMMENT="true")
        again = close(base, api, tmp_path, TIMETRACK_COMMENT="true")

    assert silent.returncode == 0 and len(silent.stdout.splitlines()) == 1
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines()[1] == "timetrack: commented on the issue"
    assert again.stdout.splitlines()[1] == "timetrack: updated the issue's comment"
    text = f"{MARKER}\nTracked 3h 20m: @Codertocat 2h, @octocat 1h 20m"
    listing = f"/repos/{REPO}/issues/1/comments?per_page=100&page=1"
    assert fake.requests == [
        ("GET", listing, None),
        ("POST", f"/repos/{REPO}/issues/1/comments", {"body": text}),
        ("GET", listing, None),
        ("PATCH", f"/repos/{REPO}/issues/comments/1001", {"body": text}),
    ]
    assert fake.comments[1] == [
        {"id": 7, "body": "Someone else's comment"},
        {"id": 1001, "body": text},
    ]
    assert TOKEN not in first.stdout + first.stderr


async def test_a_refused_comment_fails_the_step_in_one_line(
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    github: tuple[str, FakeGitHub],
) -> None:
    api, _ = github
    await a_connected_team(committed)

    with serving(database_url) as base:
        result = close(base, api, tmp_path, TIMETRACK_COMMENT="true", GITHUB_TOKEN="wrong")

    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "::error title=timetrack::GitHub answered 401 to the issue comment"
    )
