"""The page in a real Chromium: sign in by link, track, pause, clock out, correct, confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from app import limits
from tests.web.conftest import Live, rest, sign_in

pytestmark = pytest.mark.browser


async def test_track_pause_stop_adjust_and_confirm(page: Any, live: Live) -> None:
    await sign_in(page, live)
    clock = page.locator("#clock")
    state = page.locator("#timer-state")
    await expect(clock).to_have_text("00:00:00")
    await expect(state).to_have_text("Not tracking")

    timer = page.locator("#timer")
    await timer.get_by_label("Subject", exact=True).fill("search_engine")
    await timer.get_by_label("Goal").fill("finish web scraper")
    await page.get_by_role("button", name="Start").click()

    await expect(state).to_have_text("Running")
    await expect(page.locator("#timer-what")).to_contain_text("search_engine")
    await expect(page.locator("#timer-what")).to_contain_text("finish web scraper")
    # Real wall time: the display must move on by itself, derived from server timestamps.
    await expect(clock).not_to_have_text("00:00:00", timeout=5000)

    await page.get_by_role("button", name="Pause").click()
    await expect(state).to_have_text("Paused")
    await expect(page.get_by_role("button", name="Resume")).to_be_focused()
    await expect(page.get_by_role("button", name="Pause")).to_be_hidden()

    await page.get_by_role("button", name="Resume").click()
    await expect(state).to_have_text("Running")

    await page.get_by_role("button", name="Clock out").click()
    review = page.locator("#review")
    await expect(review).to_be_visible()
    await expect(page.locator("#review-state")).to_have_text("Needs review")
    await expect(state).to_have_text("Not tracking")
    await expect(page.locator("#start-form")).to_be_visible()

    await page.get_by_label("Adjust time").fill("1:20")
    await page.get_by_role("button", name="Adjust time").click()
    await expect(page.locator("#review-effective")).to_have_text("1h 20m")
    await expect(page.locator("#status")).to_contain_text("1h 20m")

    await page.get_by_label("Edit purpose").fill("wrote the scraper")
    await page.get_by_role("button", name="Save purpose").click()
    await expect(page.locator("#review-what")).to_contain_text("wrote the scraper")

    await review.get_by_role("button", name="Confirm").click()
    await expect(page.locator("#review-state")).to_have_text("Confirmed")
    first = page.locator("#recent-list li").first
    await expect(first).to_contain_text("Confirmed")
    await expect(first).to_contain_text("1h 20m")

    listed = (await rest(live, "GET", "/api/timelogs/")).json()["results"][0]
    assert listed["status"] == "ENDED_CONFIRMED"
    assert listed["effective_seconds"] == 4800
    assert listed["goal"] == "wrote the scraper"
    assert listed["source"] == "web"


async def test_reopen_from_the_review(page: Any, live: Live) -> None:
    started = await rest(live, "POST", "/api/timelogs/start/", json={"subject": "docs"})
    await rest(live, "POST", f"/api/timelogs/{started.json()['id']}/stop/")
    await sign_in(page, live)

    # The latest session awaits review, so the page offers it straight away.
    await expect(page.locator("#review-state")).to_have_text("Needs review")
    unconfirmed = page.locator("#recent-list li.unconfirmed")
    await expect(unconfirmed).to_have_count(1)

    await page.get_by_role("button", name="Reopen").click()

    await expect(page.locator("#timer-state")).to_have_text("Running")
    await expect(page.locator("#review")).to_be_hidden()


async def test_set_an_allocation_and_see_its_bar(page: Any, live: Live) -> None:
    started = await rest(live, "POST", "/api/timelogs/start/", json={"subject": "search_engine"})
    session_id = started.json()["id"]
    await rest(live, "POST", f"/api/timelogs/{session_id}/stop/")
    await rest(live, "PATCH", f"/api/timelogs/{session_id}/", json={"effective_duration": "1h"})
    await sign_in(page, live)

    await page.get_by_label("Subject to plan").fill("search_engine")
    await page.get_by_label("Hours this week").fill("2")
    await page.get_by_role("button", name="Add to plan").click()

    row = page.locator("#week-rows li", has_text="search_engine")
    await expect(row.locator(".figures")).to_have_text("1h of 2h · 1h left")
    fill = row.locator(".bar-fill")
    await expect(fill).to_have_attribute("style", "width: 50%;")
    assert (await fill.bounding_box())["width"] > 0
    await expect(page.locator("#week-totals")).to_have_text("Tracked 1h of 2h planned")

    hours = page.get_by_label("Hours planned for search_engine")
    await expect(hours).to_have_attribute("max", str(limits.MAX_WEEKLY_HOURS))
    await hours.fill("4")
    await hours.press("Enter")
    await expect(row.locator(".figures")).to_have_text("1h of 4h · 3h left")
    await expect(fill).to_have_attribute("style", "width: 25%;")


async def test_starting_while_a_session_is_active_says_so(page: Any, live: Live) -> None:
    await sign_in(page, live)
    await expect(page.locator("#start-form")).to_be_visible()
    elsewhere = await rest(live, "POST", "/api/timelogs/start/", json={"subject": "from a script"})
    assert elsewhere.status_code == 201

    await page.locator("#timer").get_by_label("Subject", exact=True).fill("from the page")
    await page.get_by_role("button", name="Start").click()

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("You are already tracking from a script")
    await expect(alert).to_contain_text("Clock out of it first")
    # The page then shows the session that really is active.
    await expect(page.locator("#timer-state")).to_have_text("Running")
    await expect(page.locator("#timer-what")).to_contain_text("from a script")


async def test_the_page_resyncs_when_the_tab_comes_back(page: Any, live: Live) -> None:
    started = await rest(live, "POST", "/api/timelogs/start/", json={"subject": "elsewhere"})
    await page.clock.install()
    await sign_in(page, live)
    await expect(page.locator("#timer-state")).to_have_text("Running")

    # Paused from Discord, say, while this tab was in the background.
    await rest(live, "POST", f"/api/timelogs/{started.json()['id']}/pause/")
    await page.clock.fast_forward(5000)
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    await expect(page.locator("#timer-state")).to_have_text("Paused")
    await expect(page.get_by_role("button", name="Resume")).to_be_visible()


async def test_a_bad_duration_shows_the_servers_explanation(page: Any, live: Live) -> None:
    started = await rest(live, "POST", "/api/timelogs/start/", json={"subject": "x"})
    await rest(live, "POST", f"/api/timelogs/{started.json()['id']}/stop/")
    await sign_in(page, live)

    await page.get_by_label("Adjust time").fill("soon")
    await page.get_by_label("Adjust time").press("Enter")

    await expect(page.get_by_role("alert")).to_contain_text("Couldn't read 'soon' as a duration")


async def test_the_timezone_setting_saves(page: Any, live: Live) -> None:
    await sign_in(page, live)

    await page.get_by_label("Timezone").fill("Europe/Berlin")
    await page.get_by_role("button", name="Save timezone").click()

    await expect(page.get_by_role("status")).to_contain_text("Europe/Berlin")
    assert (await rest(live, "GET", "/api/me")).json()["timezone"] == "Europe/Berlin"


async def test_the_reminder_and_summary_settings_save(page: Any, live: Live) -> None:
    await sign_in(page, live)
    remind = page.get_by_label("Remind me after (minutes)")
    summary = page.get_by_label("Weekly summary")
    save = page.get_by_role("button", name="Save reminders")
    await expect(remind).to_have_value("120")
    await expect(summary).to_be_checked()

    await remind.fill("45")
    await summary.uncheck()
    await save.click()
    await expect(page.get_by_role("status")).to_have_text(
        "A reminder after 45m, and no weekly summary."
    )
    me = (await rest(live, "GET", "/api/me")).json()
    assert (me["remind_after_minutes"], me["weekly_summary"]) == (45, False)

    # The server's reason for a refusal shows, and nothing changes.
    await remind.fill("2000")
    await save.click()
    await expect(page.get_by_role("alert")).to_contain_text("remind_after_minutes")
    assert (await rest(live, "GET", "/api/me")).json()["remind_after_minutes"] == 45

    await remind.fill("")
    await summary.check()
    await remind.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(
        "No reminders, and a weekly summary on Monday."
    )
    await page.reload()
    await expect(remind).to_have_value("")
    await expect(summary).to_be_checked()
    me = (await rest(live, "GET", "/api/me")).json()
    assert (me["remind_after_minutes"], me["weekly_summary"]) == (None, True)


async def test_every_control_is_labelled_and_reachable_by_keyboard(page: Any, live: Live) -> None:
    await sign_in(page, live)

    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), button')]
            .filter((el) => !(el.labels?.length || el.textContent.trim() || el.ariaLabel))
            .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []

    await page.locator("body").focus()
    await page.keyboard.press("Tab")
    for _ in range(8):
        if await page.evaluate("document.activeElement.id") == "subject-input":
            break
        await page.keyboard.press("Tab")
    await page.keyboard.type("keyboard only")
    await page.keyboard.press("Enter")
    await expect(page.locator("#timer-state")).to_have_text("Running")
    await expect(page.get_by_role("button", name="Pause")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#timer-state")).to_have_text("Paused")


async def test_a_phone_wide_screen_has_no_horizontal_scroll(
    page: Any, live: Live, artifacts: Path
) -> None:
    long_subject = "a-rather-long-organisation/with-a-very-long-repository-name"
    for subject, hours in ((long_subject, 6), ("docs", 2), ("reviews", 1.5)):
        await rest(live, "PUT", f"/api/allocations/{subject}", json={"hours": hours})
    for subject, worked in ((long_subject, "2h 30m"), ("docs", "2:15")):
        started = await rest(
            live, "POST", "/api/timelogs/start/", json={"subject": subject, "goal": "x" * 120}
        )
        path = f"/api/timelogs/{started.json()['id']}/"
        await rest(live, "POST", f"{path}stop/")
        await rest(live, "PATCH", path, json={"effective_duration": worked})
    await rest(live, "POST", "/api/timelogs/start/", json={"subject": "reviews", "goal": "PR #12"})
    await page.set_viewport_size({"width": 375, "height": 812})
    await sign_in(page, live)
    await expect(page.locator("#week-rows li")).to_have_count(3)
    await expect(page.locator("#recent-list li")).to_have_count(3)

    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 375, widths
    await page.screenshot(path=str(artifacts / "page-375.png"), full_page=True)

    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.get_by_role("button", name="Clock out").click()
    await expect(page.locator("#review")).to_be_visible()
    await expect(page.locator("#recent-list li").first).to_contain_text("Needs review")
    await page.screenshot(path=str(artifacts / "page-1280.png"), full_page=True)


async def test_signed_out_visitors_get_the_sign_in_hint(page: Any, live: Live) -> None:
    await page.goto(live.url)

    await expect(page.get_by_role("heading", name="Sign in to timetrack")).to_be_visible()
    await expect(page.get_by_text("timetrack login-link --user")).to_be_visible()
