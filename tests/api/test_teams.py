"""Teams over REST: consent, roles on every route, invitations, and the team report, which
is the members' personal reports restricted to what each shares."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app import teams
from app.clock import Clock
from tests.api.conftest import ApiUser, error_of, make_user
from tests.api.test_reports import sydney

MONDAY, SUNDAY = "2026-11-16", "2026-11-22"
ISSUE = "https://github.com/octo-org/hello-world/issues/12"


async def add(
    client: AsyncClient, user: ApiUser, subject: str, day: int, hours: int, **extra: Any
) -> None:
    body = {
        "subject": subject,
        "started_at": sydney(day, "09:00"),
        "ended_at": sydney(day, f"{9 + hours:02d}:00"),
        "goal": "secret goal",
        "note": "secret note",
        **extra,
    }
    response = await client.post("/api/timelogs/", json=body, headers=user.headers)
    assert response.status_code == 201, response.text


async def create(client: AsyncClient, user: ApiUser, name: str = "Study group") -> int:
    response = await client.post("/api/teams/", json={"name": name}, headers=user.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def invite(client: AsyncClient, user: ApiUser, team_id: int) -> str:
    response = await client.post(f"/api/teams/{team_id}/invites/", headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["url"]).rsplit("/", 1)[1]


async def join(client: AsyncClient, user: ApiUser, token: str) -> Any:
    return await client.post(f"/api/teams/join/{token}", headers=user.headers)


async def report(client: AsyncClient, user: ApiUser, team_id: int, group_by: str = "member") -> Any:
    return await client.get(
        f"/api/teams/{team_id}/report",
        params={"from": MONDAY, "to": SUNDAY, "group_by": group_by},
        headers=user.headers,
    )


async def personal(client: AsyncClient, user: ApiUser, group_by: str = "subject") -> Any:
    response = await client.get(
        "/api/reports/summary",
        params={"from": MONDAY, "to": SUNDAY, "group_by": group_by},
        headers=user.headers,
    )
    return response.json()


@pytest.fixture
def carol_id() -> str:
    return "100000000000000003"


async def test_a_team_is_created_listed_and_shown_with_its_members(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)

    listed = (await client.get("/api/teams/", headers=alice.headers)).json()
    assert [(t["id"], t["name"], t["role"]) for t in listed["results"]] == [
        (team_id, "Study group", "owner")
    ]
    shown = (await client.get(f"/api/teams/{team_id}/", headers=alice.headers)).json()
    assert shown["timezone"] == "Australia/Sydney"
    assert shown["shared_subjects"] is None
    assert shown["members"] == [
        {"user_id": alice.id, "name": shown["members"][0]["name"], "role": "owner"}
    ]


async def test_consent_nothing_before_joining_and_nothing_after_leaving(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    await add(client, bob, "Thesis", 16, 2)

    # Before joining, bob is in no report and cannot see the team at all.
    body = (await report(client, alice, team_id)).json()
    assert [g["key"] for g in body["groups"]] == []
    assert (await report(client, bob, team_id)).status_code == 404

    assert (await join(client, bob, await invite(client, alice, team_id))).status_code == 200
    body = (await report(client, alice, team_id)).json()
    assert [(g["key"], g["seconds"]) for g in body["groups"]] == [(bob.id, 7200)]
    assert body["total_seconds"] == 7200
    # Only seconds: no goal, note or timestamp of bob's anywhere in the answer.
    for group_by in ("member", "subject", "day", "issue"):
        text = (await report(client, alice, team_id, group_by)).text
        assert "secret" not in text and "T09:00" not in text and "T22:00" not in text

    left = await client.delete(f"/api/teams/{team_id}/members/{bob.id}", headers=bob.headers)
    assert left.status_code == 204
    assert (await report(client, alice, team_id)).json()["groups"] == []
    assert (await report(client, bob, team_id)).status_code == 404
    assert (await client.get("/api/teams/", headers=bob.headers)).json()["results"] == []


async def test_a_team_report_is_the_sum_of_its_members_shared_personal_reports(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    await join(client, bob, await invite(client, alice, team_id))
    # Bob shares only Thesis; a session crossing Sydney's midnight is split the same way.
    await teams.share(db, bob.id, team_id, ["thesis"])
    await add(client, alice, "Maths", 16, 3)
    await add(client, alice, "Thesis", 17, 1)
    await add(client, bob, "Thesis", 16, 2)
    await add(client, bob, "Private", 17, 5)
    late = {"started_at": sydney(17, "23:00"), "ended_at": sydney(18, "01:30")}
    await add(client, bob, "Thesis", 17, 1, **late)

    # Per subject and per issue: the two personal reports added, without bob's Private.
    for group_by in ("subject", "issue"):
        expected: dict[str | None, int] = {}
        for user in (alice, bob):
            for group in (await personal(client, user, group_by))["groups"]:
                expected[group["key"]] = expected.get(group["key"], 0) + group["seconds"]
        if group_by == "subject":
            del expected["Private"]
        else:
            expected[None] -= 5 * 3600
        got = (await report(client, alice, team_id, group_by)).json()["groups"]
        assert {g["key"]: g["seconds"] for g in got} == expected, group_by
    # Per day: each day's shares of the shared subjects, split at midnight as before.
    expected_days: dict[str, int] = {}
    for user in (alice, bob):
        for group in (await personal(client, user, "day"))["groups"]:
            shared = sum(s["seconds"] for s in group["subjects"] if s["subject"] != "Private")
            expected_days[group["key"]] = expected_days.get(group["key"], 0) + shared
    got_days = (await report(client, alice, team_id, "day")).json()["groups"]
    assert {g["key"]: g["seconds"] for g in got_days} == expected_days
    assert expected_days["2026-11-18"] == 5400  # 00:00 to 01:30 of the late session
    # Each day also splits its time by member, for the page's chart.
    for group in got_days:
        assert sum(m["seconds"] for m in group["members"]) == group["seconds"]
    assert [(m["user_id"], m["seconds"]) for m in got_days[1]["members"]] == [
        (alice.id, 3600),
        (bob.id, 3600),
    ]
    by_member = (await report(client, alice, team_id)).json()
    assert {g["key"]: g["seconds"] for g in by_member["groups"]} == {
        alice.id: 4 * 3600,
        bob.id: 2 * 3600 + 9000,
    }
    assert by_member["total_seconds"] == 4 * 3600 + 2 * 3600 + 9000
    assert by_member["timezone"] == "Australia/Sydney"


async def test_a_member_of_two_teams_shares_different_subjects_with_each(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    study = await create(client, alice, "Study")
    work = await create(client, alice, "Work")
    for team_id in (study, work):
        await join(client, bob, await invite(client, alice, team_id))
    await teams.share(db, bob.id, study, ["Thesis"])
    await teams.share(db, bob.id, work, ["Client", "Ops"])
    await add(client, bob, "Thesis", 16, 1)
    await add(client, bob, "Client", 17, 2)
    await add(client, bob, "Ops", 18, 1)

    seen = {
        team_id: {
            g["key"]: g["seconds"]
            for g in (await report(client, alice, team_id, "subject")).json()["groups"]
        }
        for team_id in (study, work)
    }
    assert seen == {study: {"Thesis": 3600}, work: {"Client": 7200, "Ops": 3600}}


async def test_issues_of_the_teams_github_owner_count_whatever_is_shared(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    await join(client, bob, await invite(client, alice, team_id))
    await teams.share(db, bob.id, team_id, ["Nothing"])
    await add(client, bob, "Private", 16, 2, github_issue_url=ISSUE)
    other = "https://github.com/someone-else/hello-world/issues/3"
    await add(client, bob, "Private", 17, 1, github_issue_url=other)

    assert (await report(client, alice, team_id, "issue")).json()["groups"] == []
    patched = await client.patch(
        f"/api/teams/{team_id}/",
        json={"github_owner": "Octo-Org", "github_repositories": ["octo-org/Hello-World"]},
        headers=alice.headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["github_owner"], patched.json()["github_repositories"]) == (
        "octo-org",
        ["hello-world"],
    )
    groups = (await report(client, alice, team_id, "issue")).json()["groups"]
    assert [(g["key"], g["label"], g["seconds"]) for g in groups] == [
        (ISSUE, "octo-org/hello-world#12", 7200)
    ]
    other_repo = await client.patch(
        f"/api/teams/{team_id}/", json={"github_repositories": ["docs"]}, headers=alice.headers
    )
    assert other_repo.status_code == 200
    assert (await report(client, alice, team_id, "issue")).json()["groups"] == []


async def test_outsiders_get_404_and_members_403_on_every_admin_route(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    carol = await make_user(db, "100000000000000003")
    await join(client, bob, await invite(client, alice, team_id))

    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/teams/{team_id}/", None),
        ("PATCH", f"/api/teams/{team_id}/", {"name": "Renamed"}),
        ("POST", f"/api/teams/{team_id}/invites/", None),
        ("DELETE", f"/api/teams/{team_id}/members/{alice.id}", None),
        ("GET", f"/api/teams/{team_id}/report", None),
    ]
    for method, path, body in routes:
        response = await client.request(method, path, json=body, headers=carol.headers)
        assert response.status_code == 404, (method, path)
        assert error_of(response) == ("not_found", "No such team.")
    admin_only = [routes[1], routes[2], routes[3]]
    for method, path, body in admin_only:
        response = await client.request(method, path, json=body, headers=bob.headers)
        assert response.status_code == 403, (method, path)
        assert error_of(response)[0] == "forbidden"
    for method, path, _ in (routes[0], routes[4]):
        assert (await client.request(method, path, headers=bob.headers)).status_code == 200
    # An admin removes a member; nobody removes an owner but the owner.
    removed = await client.delete(f"/api/teams/{team_id}/members/{bob.id}", headers=alice.headers)
    assert removed.status_code == 204
    assert (await client.get(f"/api/teams/{team_id}/", headers=bob.headers)).status_code == 404
    missing = await client.delete(f"/api/teams/{team_id}/members/{carol.id}", headers=alice.headers)
    assert missing.status_code == 404
    assert (await client.get("/api/teams/999999/", headers=alice.headers)).status_code == 404


async def test_an_invite_works_once_and_for_seven_days(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    carol = await make_user(db, "100000000000000003")
    token = await invite(client, alice, team_id)

    # The owner opening it is answered 409, and the invite stays unspent.
    again = await join(client, alice, token)
    assert again.status_code == 409
    assert (await join(client, bob, token)).status_code == 200
    spent = await join(client, carol, token)
    assert spent.status_code == 404
    assert "used or has expired" in error_of(spent)[1]

    late = await invite(client, alice, team_id)
    frozen.advance(days=7)
    assert (await join(client, carol, late)).status_code == 404
    assert (await join(client, carol, "not-a-token")).status_code == 404


async def test_the_last_owner_leaving_hands_the_team_on_and_an_empty_team_is_deleted(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    await join(client, bob, await invite(client, alice, team_id))

    left = await client.delete(f"/api/teams/{team_id}/members/{alice.id}", headers=alice.headers)
    assert left.status_code == 204
    shown = (await client.get(f"/api/teams/{team_id}/", headers=bob.headers)).json()
    assert [(m["user_id"], m["role"]) for m in shown["members"]] == [(bob.id, "owner")]

    gone = await client.delete(f"/api/teams/{team_id}/members/{bob.id}", headers=bob.headers)
    assert gone.status_code == 204
    assert (await client.get(f"/api/teams/{team_id}/", headers=bob.headers)).status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "  "}, "needs a name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"github_owner": "not an owner"}, "GitHub"),
        ({"github_repositories": ["x"]}, "owner before"),
    ],
)
async def test_bad_settings_are_422(
    client: AsyncClient, alice: ApiUser, frozen: Clock, body: dict[str, Any], fragment: str
) -> None:
    team_id = await create(client, alice)
    response = await client.patch(f"/api/teams/{team_id}/", json=body, headers=alice.headers)
    assert response.status_code == 422
    assert fragment.lower() in response.text.lower()


async def member_patch(
    client: AsyncClient, user: ApiUser, team_id: int, member: str, **body: Any
) -> Any:
    return await client.patch(
        f"/api/teams/{team_id}/members/{member}", json=body, headers=user.headers
    )


async def test_a_member_chooses_what_they_share_over_rest(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    await join(client, bob, await invite(client, alice, team_id))
    await add(client, bob, "Thesis", 16, 1)
    await add(client, bob, "Diary", 17, 2)

    chosen = await member_patch(client, bob, team_id, bob.id, shared_subjects=["thesis"])
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["role"] == "member"
    seen = (await report(client, alice, team_id, "subject")).json()["groups"]
    assert [(g["key"], g["seconds"]) for g in seen] == [("Thesis", 3600)]

    everything = await member_patch(client, bob, team_id, bob.id, shared_subjects=None)
    assert everything.status_code == 200
    seen = (await report(client, alice, team_id, "subject")).json()["groups"]
    assert {g["key"] for g in seen} == {"Thesis", "Diary"}

    # Someone else's consent is not the owner's to give.
    forced = await member_patch(client, alice, team_id, bob.id, shared_subjects=["Diary"])
    assert forced.status_code == 403
    empty = await member_patch(client, bob, team_id, bob.id, shared_subjects=[" "])
    assert empty.status_code == 422


async def test_owners_change_roles_and_a_team_keeps_an_owner(
    client: AsyncClient, db: AsyncSession, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    team_id = await create(client, alice)
    await join(client, bob, await invite(client, alice, team_id))
    carol = await make_user(db, "100000000000000077")

    assert (await member_patch(client, bob, team_id, bob.id, role="admin")).status_code == 403
    assert (await member_patch(client, carol, team_id, bob.id, role="admin")).status_code == 404
    assert (await member_patch(client, alice, team_id, "nobody", role="admin")).status_code == 404
    last_owner = await member_patch(client, alice, team_id, alice.id, role="member")
    assert last_owner.status_code == 409
    assert "owner" in error_of(last_owner)[1]

    promoted = await member_patch(client, alice, team_id, bob.id, role="admin")
    assert promoted.json()["role"] == "admin"
    # An admin may now invite, and still may not change roles.
    assert (
        await client.post(f"/api/teams/{team_id}/invites/", headers=bob.headers)
    ).status_code == 201
    assert (await member_patch(client, bob, team_id, alice.id, role="member")).status_code == 403

    assert (await member_patch(client, alice, team_id, bob.id, role="owner")).status_code == 200
    stepped_down = await member_patch(client, alice, team_id, alice.id, role="member")
    assert stepped_down.json()["role"] == "member"
    roles = {
        m["user_id"]: m["role"]
        for m in (await client.get(f"/api/teams/{team_id}/", headers=bob.headers)).json()["members"]
    }
    assert roles == {alice.id: "member", bob.id: "owner"}
