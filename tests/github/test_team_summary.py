"""An issue of a repository a team is connected to closes: the answer sums the time its
members who share spent on it, all time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import entries, teams
from app.clock import Clock, clock
from app.issues import IssueRef
from tests.github.conftest import Hook, link, payload

ISSUE = IssueRef("Codertocat/Hello-World", 1, "https://github.com/Codertocat/Hello-World/issues/1")


async def worked(db: AsyncSession, user_id: str, minutes: int, days_ago: int) -> None:
    end = clock.now() - timedelta(days=days_ago)
    await entries.add(db, user_id, "Hello", end - timedelta(minutes=minutes), end, issue=ISSUE)


async def test_the_closed_issue_carries_its_members_time(
    hook: Hook, db: AsyncSession, frozen: Clock
) -> None:
    alice = await link(db, "Codertocat")
    bob = await link(db, "octocat")
    outsider = await link(db, "stranger")
    created = await teams.create(db, alice, "Hello team")
    team_id = created.team.id
    await teams.update(db, alice, team_id, github_owner="codertocat")
    url, _ = await teams.create_invite(db, alice, team_id)
    await teams.join_by_invite(db, bob, url.rsplit("/", 1)[1])
    # Sharing no subject by name still shares the owner's issues.
    await teams.share(db, bob, team_id, ["Nothing"])
    await worked(db, alice, 60, days_ago=40)
    await worked(db, alice, 60, days_ago=1)
    await worked(db, bob, 80, days_ago=2)
    await worked(db, outsider, 500, days_ago=3)
    await db.commit()

    answer = (await hook.send("issues", payload("issues.closed"))).json()
    assert answer["summary"] == {
        "total_seconds": 12000,
        "contributors": [
            {"login": "Codertocat", "seconds": 7200},
            {"login": "octocat", "seconds": 4800},
        ],
    }

    await teams.remove(db, bob, team_id, bob)
    await db.commit()
    again = (await hook.send("issues", payload("issues.closed"))).json()
    assert again["summary"]["contributors"] == [{"login": "Codertocat", "seconds": 7200}]

    await teams.update(db, alice, team_id, github_repositories=["other-repo"])
    await db.commit()
    assert "summary" not in (await hook.send("issues", payload("issues.closed"))).json()


async def test_no_team_connected_no_summary(hook: Hook, db: AsyncSession, frozen: Clock) -> None:
    alice = await link(db, "Codertocat")
    await worked(db, alice, 60, days_ago=1)
    await db.commit()
    assert "summary" not in (await hook.send("issues", payload("issues.closed"))).json()
