"""`/session add`, `/report` and the week view's ◀ ▶ buttons, end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.models import SessionSource, SessionStatus
from tests.discord.support import (
    ALICE,
    Discord,
    button_ids,
    card_session_id,
    description,
    is_ephemeral,
)

# The frozen clock: Wednesday 18 November 2026, 01:00 UTC, which is 12:00 in Sydney.
NOW = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def test_session_add_ends_now_by_default(discord: Discord, sessions_of: Any) -> None:
    body = await discord.run("session add", subject="Reading", duration="1h 20m", goal="ch. 3")

    assert body["type"] == 4
    assert is_ephemeral(body)
    session_id = card_session_id(body)
    assert button_ids(body) == [f"adjust_time:{session_id}", f"edit_purpose:{session_id}"]
    assert "Effective: **1h 20m**" in description(body)
    [stored] = await sessions_of(ALICE)
    assert (stored.started_at, stored.ended_at) == (utc(17, 23, 40), NOW)
    assert (stored.status, stored.source) == (SessionStatus.ENDED_CONFIRMED, SessionSource.MANUAL)
    assert stored.goal == "ch. 3"


@pytest.mark.parametrize(
    ("day", "start", "started", "ended"),
    [
        # A past day without a start ends at 18:00 there (Sydney, UTC+11).
        ("yesterday", None, utc(17, 5), utc(17, 7)),
        ("2026-11-10", None, utc(10, 5), utc(10, 7)),
        ("today", "09:15", utc(17, 22, 15), utc(18, 0, 15)),
        (None, "9:15", utc(17, 22, 15), utc(18, 0, 15)),
        ("2026-11-16", "23:30", utc(16, 12, 30), utc(16, 14, 30)),
    ],
)
async def test_session_add_on_a_day_and_from_a_start(
    discord: Discord,
    sessions_of: Any,
    day: str | None,
    start: str | None,
    started: datetime,
    ended: datetime,
) -> None:
    options = {"subject": "Reading", "duration": "2h"}
    if day is not None:
        options["day"] = day
    if start is not None:
        options["start"] = start
    body = await discord.run("session add", **options)

    assert is_ephemeral(body)
    [stored] = await sessions_of(ALICE)
    assert (stored.started_at, stored.ended_at) == (started, ended)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"duration": "soon"}, "Try 1h 20m"),
        ({"duration": "0m"}, "adds nothing"),
        ({"duration": "1h", "day": "tomorrow"}, "a date written"),
        ({"duration": "1h", "day": "2026-11-19"}, "hasn't happened"),
        ({"duration": "1h", "start": "25:00"}, "HH:MM"),
        ({"duration": "3h", "start": "11:00"}, "future"),
    ],
)
async def test_session_add_mistakes_are_private_and_change_nothing(
    discord: Discord, sessions_of: Any, options: dict[str, str], fragment: str
) -> None:
    body = await discord.run("session add", subject="Reading", **options)

    assert is_ephemeral(body)
    assert fragment in body["data"]["content"]
    assert await sessions_of(ALICE) == []


async def test_session_add_over_tracked_time_names_the_session(
    discord: Discord, sessions_of: Any
) -> None:
    first = await discord.run("session add", subject="Reading", duration="1h")
    again = await discord.run("session add", subject="Maths", duration="30m")

    assert is_ephemeral(again)
    assert f"session {card_session_id(first)}" in again["data"]["content"]
    assert len(await sessions_of(ALICE)) == 1


async def test_the_added_card_adjusts_like_any_other(discord: Discord, sessions_of: Any) -> None:
    session_id = card_session_id(await discord.run("session add", subject="Gym", duration="1h"))

    opened = await discord.click(f"adjust_time:{session_id}")
    submitted = await discord.submit(f"adjust_time:{session_id}", {"duration": "45m"})

    assert opened["type"] == 9
    assert submitted["type"] == 7
    assert "Effective: **45m** (adjusted)" in description(submitted)
    [stored] = await sessions_of(ALICE)
    assert stored.effective_override_seconds == 45 * 60


async def test_report_this_week_has_bars_days_and_the_total(discord: Discord) -> None:
    await discord.run("session add", subject="Reading", duration="2h", day="2026-11-16")
    await discord.run("session add", subject="Maths", duration="1h", day="2026-11-17")

    body = await discord.run("report")

    assert is_ephemeral(body)
    embed = body["data"]["embeds"][0]
    assert embed["title"] == "This week · Mon 16 Nov – Sun 22 Nov 2026"
    text = embed["description"]
    assert "**Reading**\n`▓▓▓▓▓▓▓▓▓▓` 2h" in text
    assert "**Maths**\n`▓▓▓▓▓░░░░░` 1h" in text
    assert text.index("Reading") < text.index("Maths")
    assert "Mon 2h · Tue 1h · Wed 0m · Thu 0m · Fri 0m · Sat 0m · Sun 0m" in text
    assert text.endswith("**Total** 3h")


async def test_report_last_month_is_per_subject_only(discord: Discord) -> None:
    await discord.run("session add", subject="Reading", duration="2h", day="2026-10-30")
    await discord.run("session add", subject="Maths", duration="1h", day="2026-11-02")

    body = await discord.run("report", period="last month")

    embed = body["data"]["embeds"][0]
    assert embed["title"] == "Last month · Thu 01 Oct – Sat 31 Oct 2026"
    assert "Reading" in embed["description"] and "Maths" not in embed["description"]
    assert "Mon " not in embed["description"]
    assert embed["description"].endswith("**Total** 2h")


async def test_an_empty_report_says_how_to_start(discord: Discord) -> None:
    body = await discord.run("report", period="last week")
    assert "Nothing tracked in this period" in description(body)


async def test_alloc_show_steps_through_weeks_in_place(discord: Discord) -> None:
    await discord.run("session add", subject="Reading", duration="2h", day="2026-11-10")

    shown = await discord.run("alloc show")
    assert button_ids(shown) == ["week:2026-11-09", "week:2026-11-23"]

    previous = await discord.click("week:2026-11-09")
    assert previous["type"] == 7
    assert previous["data"]["embeds"][0]["title"] == "Week of Mon 09 Nov 2026"
    assert "Reading" in description(previous)
    assert button_ids(previous) == ["week:2026-11-02", "week:2026-11-16"]

    far = await discord.click("week:2026-10-26")
    assert button_ids(far) == ["week:2026-10-19", "week:2026-11-16", "week:2026-11-02"]


@pytest.mark.parametrize("ref", ["", "yesterday", "2026-13-01", "20261116"])
async def test_an_unreadable_week_button_is_no_longer_supported(discord: Discord, ref: str) -> None:
    body = await discord.click(f"week:{ref}")
    assert is_ephemeral(body)
    assert "no longer supported" in body["data"]["content"]
