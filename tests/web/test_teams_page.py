"""The Teams card in a real Chromium: join by invitation, the week ranked by member, the
chart by member, and an admin's invitations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from app import accounts, entries, teams
from app.clock import Clock, clock
from tests.conftest import FROZEN_AT
from tests.web.conftest import USER_ID, Live, sign_in

pytestmark = pytest.mark.browser

BEN = "400000000000000002"


async def bens_team(live: Live) -> tuple[int, str]:
    """Ben's team, where he tracked two hours today, and an invitation to it."""
    async with live.sessions() as db, db.begin():
        await accounts.ensure_user(db, BEN, "Ben")
        created = await teams.create(db, BEN, "Study hall")
        end = clock.now().replace(microsecond=0)
        await entries.add(db, BEN, "Thesis", end - timedelta(hours=2), end)
        url, _ = await teams.create_invite(db, BEN, created.team.id)
        return created.team.id, url.rsplit("/", 1)[1]


async def test_join_by_invitation_see_the_week_and_leave(
    page: Any, live: Live, frozen: Clock
) -> None:
    team_id, token = await bens_team(live)
    # The browser's clock is the context's: it agrees with the server's frozen one.
    await page.clock.set_fixed_time(FROZEN_AT)
    await sign_in(page, live)
    await expect(page.locator("#teams-none")).to_be_visible()

    await page.goto(f"{live.url}/teams/join/{token}")
    await page.get_by_role("button", name="Join the team").click()
    await expect(page.locator("#status")).to_contain_text("You joined Study hall")
    await expect(page).to_have_url(f"{live.url}/")

    ranking = page.locator("#team-ranking li")
    await expect(ranking).to_have_count(1)
    await expect(ranking.first).to_contain_text("Ben")
    await expect(ranking.first).to_contain_text("2h")
    await expect(page.locator("#team-chart-legend")).to_contain_text("Ben")
    await expect(page.locator("#team-chart svg")).to_have_count(1)
    # A member: no invitations, and only themself to take out.
    await expect(page.locator("#team-admin")).to_be_hidden()
    await expect(page.locator("#team-members")).to_contain_text("Ada")
    await expect(page.get_by_role("button", name="Remove")).to_have_count(0)

    await page.get_by_role("button", name="Leave Study hall").click()
    await expect(page.locator("#status")).to_contain_text("You left Study hall")
    await expect(page.locator("#teams-none")).to_be_visible()
    async with live.sessions() as db:
        assert [m.user_id for m in await teams.members(db, team_id)] == [BEN]
        assert await teams.teams_of(db, USER_ID) == []


async def test_an_owner_creates_a_team_and_an_invitation(page: Any, live: Live) -> None:
    await sign_in(page, live)
    await page.get_by_label("New team").fill("Reading group")
    await page.get_by_role("button", name="Create team").click()
    await expect(page.locator("#status")).to_contain_text("Created Reading group")
    await expect(page.locator("#team-empty")).to_be_visible()

    await page.get_by_role("button", name="Create an invitation").click()
    await expect(page.get_by_label("Invitation link")).to_have_value(re.compile("/teams/join/"))
    await expect(page.locator("#status")).to_contain_text("works once, for seven days")
