"""Adding time by hand, the history and the eight-week chart, in a real Chromium.

The server's clock is frozen (a Wednesday, 12:00 in Sydney) and the page's clock is set to
the same instant, so "today", "this week" and "the last eight weeks" are fixed days. The
user's timezone is Sydney and the browser's Los Angeles, where it is still Tuesday: every
day and local time on the page must come from the user's timezone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from app import entries
from app.clock import Clock
from app.durations import parse_duration
from app.errors import InvalidInput
from tests.conftest import FROZEN_AT
from tests.web.conftest import USER_ID, Live, rest, sign_in

pytestmark = pytest.mark.browser

SYDNEY = ZoneInfo("Australia/Sydney")
TODAY = "2026-11-18"  # FROZEN_AT in Sydney
THIS_MONDAY = "2026-11-16"


def local(day: str, clock_time: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock_time), SYDNEY)


def utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def add(live: Live, subject: str, day: str, start: str, end: str) -> dict[str, Any]:
    response = await rest(
        live,
        "POST",
        "/api/timelogs/",
        json={
            "subject": subject,
            "started_at": local(day, start).isoformat(),
            "ended_at": local(day, end).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


BROWSER_TIMEZONE = "America/Los_Angeles"


async def open_page(page: Any, live: Live) -> None:
    await page.clock.set_fixed_time(FROZEN_AT)
    browser = await page.context.new_cdp_session(page)
    await browser.send("Emulation.setTimezoneOverride", {"timezoneId": BROWSER_TIMEZONE})
    await sign_in(page, live)


async def add_on_page(page: Any, **fields: str) -> None:
    # The page ignores a second submit while the first is still at work (refreshing after a
    # conflict, say), as a person would see; wait for it like they would.
    await expect(page.locator("body")).not_to_have_attribute("aria-busy", "true")
    form = page.locator("#add-time")
    labels = {"subject": "Subject", "day": "Day", "start": "Start", "end": "End"}
    labels |= {"duration": "or duration", "goal": "Goal"}
    for name, value in fields.items():
        await form.get_by_label(labels[name], exact=name != "goal").fill(value)
    await form.get_by_role("button", name="Add time").click()


def segment(page: Any, name: str) -> Any:
    """A bar segment of the chart, found by its accessible name."""
    return page.locator("#chart").get_by_role("img", name=re.compile(rf"^{re.escape(name)}"))


async def test_time_added_on_the_page_shows_in_the_history_and_the_chart(
    page: Any, live: Live, frozen: Clock
) -> None:
    await open_page(page, live)
    assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == (
        BROWSER_TIMEZONE
    )
    form = page.locator("#add-time")
    await expect(form.get_by_label("Day")).to_have_value(TODAY)

    await add_on_page(page, subject="thesis", start="09:00", end="10:20", goal="chapter 2")

    await expect(page.locator("#status")).to_contain_text("Added 1h 20m of thesis")
    added = (await rest(live, "GET", "/api/timelogs/")).json()["results"][0]
    assert (added["started_at"], added["ended_at"]) == (
        "2026-11-17T22:00:00Z",
        "2026-11-17T23:20:00Z",
    )
    assert (added["subject"], added["goal"], added["source"]) == ("thesis", "chapter 2", "manual")
    await expect(page.locator("#recent-list li").first).to_contain_text("1h 20m")
    # The next piece of the day starts where this one ended.
    await expect(form.get_by_label("Start")).to_have_value("10:20")
    await expect(form.get_by_label("End", exact=True)).to_have_value("")

    today = page.locator(f"#history-days li[data-day='{TODAY}']")
    await expect(today.locator(".day-total")).to_have_text("1h 20m")
    await expect(today.locator(".history-breakdown")).to_have_text("thesis 1h 20m")
    await expect(page.locator("#history-total")).to_have_text("Week total: 1h 20m")
    thesis = page.locator("#history-subjects li", has_text="thesis")
    await expect(thesis.locator(".figures")).to_have_text("1h 20m · 1 session")

    bar = segment(page, "thesis: 1h 20m on ")
    await expect(bar).to_have_count(1)
    await expect(page.locator("#chart-legend li")).to_have_text(["thesis 1h 20m"])

    # The duration instead of the end: 10:20 plus 45 minutes.
    await add_on_page(page, subject="docs", duration="45m")
    await expect(page.locator("#status")).to_contain_text("Added 45m of docs")
    await expect(today.locator(".day-total")).to_have_text("2h 5m")
    await expect(today.locator(".history-breakdown")).to_have_text("thesis 1h 20m · docs 45m")
    added = (await rest(live, "GET", "/api/timelogs/")).json()["results"][0]
    assert (added["started_at"], added["ended_at"]) == (
        "2026-11-17T23:20:00Z",
        "2026-11-18T00:05:00Z",
    )

    # The chart is one tab stop, on today's bar; arrows move between days and subjects,
    # and the caption says what the keyboard is on.
    caption = page.locator("#chart-caption")
    await expect(caption).to_contain_text("2h 5m tracked from")
    await page.locator("#add-time").get_by_role("button", name="Add time").focus()
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.closest('#chart') !== null"):
            break
    await expect(segment(page, "thesis: 1h 20m on ")).to_be_focused()
    await expect(caption).to_contain_text(": 2h 5m — thesis 1h 20m, docs 45m")
    await expect(caption.locator(".current")).to_have_text("thesis 1h 20m")
    await page.keyboard.press("ArrowUp")
    await expect(segment(page, "docs: 45m on ")).to_be_focused()
    await expect(caption.locator(".current")).to_have_text("docs 45m")
    await page.keyboard.press("ArrowLeft")
    await expect(caption).to_contain_text("nothing tracked")
    await page.keyboard.press("End")
    await expect(segment(page, "thesis: 1h 20m on ")).to_be_focused()

    # Pointing at a segment shows the same.
    await page.locator("#timer-title").focus()
    await segment(page, "docs: 45m on ").hover()
    await expect(caption.locator(".current")).to_have_text("docs 45m")


async def test_an_overlapping_or_impossible_entry_says_why(
    page: Any, live: Live, frozen: Clock
) -> None:
    await add(live, "reviews", TODAY, "09:00", "10:00")
    await open_page(page, live)
    today = page.locator(f"#history-days li[data-day='{TODAY}']")
    await expect(today.locator(".day-total")).to_have_text("1h")
    alert = page.get_by_role("alert")

    await add_on_page(page, subject="thesis", start="09:30", duration="1h")
    await expect(alert).to_contain_text("This overlaps session")
    await expect(alert).to_contain_text("reviews")

    await add_on_page(page, start="11:00", duration="", end="13:00")
    await expect(alert).to_contain_text("The end is in the future")

    await add_on_page(page, start="10:00", end="10:30", duration="30m")
    await expect(alert).to_have_text("Give the end time or the duration, not both.")

    await add_on_page(page, end="", duration="soon")
    await expect(alert).to_contain_text("Couldn't read 'soon' as a duration")

    await expect(today.locator(".day-total")).to_have_text("1h")
    assert (await rest(live, "GET", "/api/timelogs/")).json()["count"] == 1


async def test_an_entry_across_midnight_and_a_dst_change(
    page: Any, live: Live, frozen: Clock
) -> None:
    # Sydney's clocks went forward from 02:00 to 03:00 on Sunday 4 October 2026, so 23:30
    # to 04:00 that night is three and a half hours: 30 minutes on Saturday, 3 on Sunday.
    await open_page(page, live)

    await add_on_page(page, subject="release", day="2026-10-03", start="23:30", end="04:00")

    await expect(page.locator("#status")).to_contain_text("Added 3h 30m of release")
    added = (await rest(live, "GET", "/api/timelogs/")).json()["results"][0]
    assert added["started_at"] == utc(local("2026-10-03", "23:30"))
    assert added["ended_at"] == utc(local("2026-10-04", "04:00"))
    assert added["measured_seconds"] == 3 * 3600 + 30 * 60
    await expect(segment(page, "release: 30m on ")).to_have_count(1)
    await expect(segment(page, "release: 3h on ")).to_have_count(1)


async def test_the_history_steps_through_weeks(page: Any, live: Live, frozen: Clock) -> None:
    await add(live, "thesis", "2026-11-10", "09:00", "11:30")
    await add(live, "docs", "2026-11-12", "14:00", "14:40")
    await add(live, "thesis", "2026-11-17", "09:00", "10:00")
    await open_page(page, live)
    days = page.locator("#history-days li")
    total = page.locator("#history-total")
    previous = page.get_by_role("button", name="Previous week")
    following = page.get_by_role("button", name="Next week")

    await expect(total).to_have_text("Week total: 1h")
    await expect(days).to_have_count(7)
    await expect(days.first).to_have_attribute("data-day", THIS_MONDAY)
    await expect(following).to_have_attribute("aria-disabled", "true")
    await following.focus()
    await page.keyboard.press("Enter")  # nothing after this week
    await expect(following).to_be_focused()
    await expect(days.first).to_have_attribute("data-day", THIS_MONDAY)

    await previous.click()
    await expect(days.first).to_have_attribute("data-day", "2026-11-09")
    await expect(previous).to_be_focused()
    await expect(total).to_have_text("Week total: 3h 10m")
    await expect(page.locator("li[data-day='2026-11-10'] .day-total")).to_have_text("2h 30m")
    await expect(page.locator("li[data-day='2026-11-12'] .day-total")).to_have_text("40m")
    await expect(page.locator("li[data-day='2026-11-11'] .day-total")).to_have_text("—")
    await expect(page.locator("#history-subjects li .name")).to_have_text(["thesis", "docs"])
    await expect(following).to_have_attribute("aria-disabled", "false")

    link = page.get_by_role("link", name="Download by day")
    href = "/api/reports/summary.csv?from=2026-11-09&to=2026-11-15&group_by=day"
    await expect(link).to_have_attribute("href", href)
    csv = await page.request.get(f"{live.url}{href}")
    assert csv.ok
    assert "2026-11-10" in await csv.text()
    by_subject = page.get_by_role("link", name="Download by subject")
    await expect(by_subject).to_have_attribute("href", re.compile("group_by=subject"))

    # Two weeks back by keyboard, then straight back to this week.
    await page.keyboard.press("Enter")
    await expect(days.first).to_have_attribute("data-day", "2026-11-02")
    await expect(total).to_have_text("Week total: 0m")
    await expect(page.locator("#history-empty")).to_be_visible()
    await page.get_by_role("button", name="This week").click()
    await expect(days.first).to_have_attribute("data-day", THIS_MONDAY)
    await expect(total).to_have_text("Week total: 1h")


def eight_weeks() -> list[tuple[str, datetime, datetime]]:
    """A plausible two months of work, different every day, ending this morning."""
    found = []
    last = date.fromisoformat(TODAY)
    for n in range(56):
        day = last - timedelta(days=55 - n)
        if day.weekday() == 6:
            continue
        plan = [
            ("thesis", 50 + (n * 37) % 140),
            ("search_engine", 20 + (n * 53) % 110),
            ("reviews", (n * 29) % 50),
            ("teaching", 90 if day.weekday() in (1, 3) else 0),
            ("docs", 40 if n % 5 == 0 else 0),
            ("admin", 15 if n % 9 == 0 else 0),
        ]
        if day.weekday() == 5:
            plan = [("thesis", 30 + (n * 17) % 60)]
        if n == 55:
            plan = [("thesis", 80), ("reviews", 35)]
        start = datetime.combine(day, time(8, 30), SYDNEY)
        for subject, minutes in plan:
            if minutes:
                found.append((subject, start, start + timedelta(minutes=minutes)))
                start += timedelta(minutes=minutes + 15)
    return found


async def test_the_chart_reads_at_desktop_and_phone_widths(
    page: Any, live: Live, frozen: Clock, artifacts: Path
) -> None:
    """Also draws `tests/artifacts/chart.png`, the README's picture (`docs/chart.png`)."""
    async with live.sessions() as db, db.begin():
        for subject, start, end in eight_weeks():
            await entries.add(db, USER_ID, subject, start, end)
    await open_page(page, live)
    chart = page.locator("#chart svg")
    legend = page.locator("#chart-legend li .name")
    await expect(legend).to_have_text(
        ["thesis", "search_engine", "teaching", "reviews", "docs", "admin"]
    )
    await expect(chart.locator(".chart-day")).to_have_count(56)
    await expect(chart.locator("text", has_text="Hours")).to_have_count(1)
    await expect(chart.locator("text", has_text="Mon")).to_have_count(8)
    await expect(page.locator("#chart-caption")).to_contain_text("a week on average")
    await page.locator("#trend").screenshot(path=str(artifacts / "chart.png"))
    await page.screenshot(path=str(artifacts / "reports-1280.png"), full_page=True)

    await page.set_viewport_size({"width": 375, "height": 812})
    # Drawn again for the new width, not shrunk: its text stays legible.
    figure_width = await page.locator("#chart").evaluate("figure => figure.clientWidth")
    assert figure_width < 340
    await expect(chart).to_have_attribute("width", str(figure_width))
    card = await page.locator("#trend").bounding_box()
    box = await chart.bounding_box()
    assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 375, widths
    # Thin bars still say what they are: focus one from the keyboard.
    await segment(page, "reviews: 35m on ").last.focus()
    await expect(page.locator("#chart-caption .current")).to_have_text("reviews 35m")
    await page.locator("#trend").screenshot(path=str(artifacts / "chart-375.png"))
    for card in ("add-time", "history"):
        await page.locator(f"#{card}").screenshot(path=str(artifacts / f"{card}-375.png"))


TIMES = [
    # zone, day, local time: ordinary days, both DST changes (the skipped and the repeated
    # hour), half-hour and 45-minute offsets, and a zone behind UTC.
    ("Australia/Sydney", "2026-11-18", "09:00"),
    ("Australia/Sydney", "2026-10-04", "01:59"),
    ("Australia/Sydney", "2026-10-04", "02:30"),
    ("Australia/Sydney", "2026-10-04", "03:00"),
    ("Australia/Sydney", "2026-04-05", "02:30"),
    ("Australia/Sydney", "2026-04-05", "03:00"),
    ("America/New_York", "2026-03-08", "02:15"),
    ("America/New_York", "2026-11-01", "01:30"),
    ("Europe/Berlin", "2026-03-29", "02:00"),
    ("Australia/Lord_Howe", "2026-04-05", "01:45"),
    ("Asia/Kathmandu", "2026-06-01", "00:00"),
    ("Asia/Tehran", "2021-03-22", "00:00"),
    ("Pacific/Apia", "2011-12-30", "12:00"),
]


async def test_local_times_become_the_instants_the_server_reads(page: Any, live: Live) -> None:
    await page.goto(live.url)
    found = await page.evaluate(
        """async (cases) => {
            const { instantOf, isoIn } = await import('/static/calendar.js');
            return cases.map(([zone, day, time]) => {
                const instant = instantOf(day, time, zone);
                return [instant, isoIn(instant, zone)];
            });
        }""",
        TIMES,
    )

    expected = []
    for zone, day, clock_time in TIMES:
        instant = datetime.combine(
            date.fromisoformat(day), time.fromisoformat(clock_time), ZoneInfo(zone)
        )
        # Through UTC, so a time in a skipped hour is written as the clock then read.
        written = instant.astimezone(UTC).astimezone(ZoneInfo(zone)).isoformat()
        expected.append([instant.timestamp() * 1000, written])
    assert found == expected


DURATIONS = ["1h 20m", "80m", "1:20", "4800s", "1.5h", " 2H ", "90", ".5h", "1h2m3s", "1:20:30"]
DURATIONS += ["2.5s", "1.1h", "0m", "soon", "1h 2h", "20m 1h", "1:60", "-5m", "h", "1:2", "."]


async def test_durations_read_as_the_server_reads_them(page: Any, live: Live) -> None:
    await page.goto(live.url)
    found = await page.evaluate(
        """async (texts) => {
            const { parseDuration } = await import('/static/format.js');
            return texts.map(parseDuration);
        }""",
        DURATIONS,
    )

    expected: list[int | None] = []
    for text in DURATIONS:
        try:
            expected.append(parse_duration(text, max_seconds=10**9))
        except InvalidInput:
            expected.append(None)
    assert found == expected
