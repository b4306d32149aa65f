"""The buttons of scheduled messages (Keep going on a reminder; Plan this week, the plan
copy and Review on a weekly summary) and the settings behind them, through the signed
endpoint, every answer checked against Discord's spec."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import allocation
from app.clock import Clock
from app.db import transaction
from app.models import SessionStatus, User, WeeklyAllocation
from server.cron.tick import tick
from tests.discord.support import (
    ALICE,
    BOB,
    Discord,
    button_ids,
    card_session_id,
    description,
    is_ephemeral,
)
from tests.inbox import Inbox, discord_inbox
from tests.inbox import button_ids as message_buttons
from tests.ops.conftest import session_started_at

THIS_WEEK = date(2026, 11, 16)  # the frozen clock's week, in Sydney
LAST_WEEK = date(2026, 11, 9)
NOT_YOURS = "This session belongs to someone else."


@pytest.fixture
def inbox(discord_env: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with discord_inbox(discord_env) as faked:
        yield faked


def content(body: dict[str, Any]) -> str:
    return str(body["data"].get("content") or "")


async def user_row(user_id: str) -> User:
    async with transaction() as db:
        found = await db.get(User, user_id)
        assert found is not None
        return found


# --- Keep going ----------------------------------------------------------------------


async def reminded(discord: Discord, frozen: Clock, inbox: Inbox) -> int:
    """A session that has run two hours, and its reminder sent."""
    session_id = card_session_id(await discord.run("session in", subject="thesis"))
    frozen.advance(hours=2)
    assert (await tick()).reminded == 1
    [reminder] = inbox.to(ALICE)
    assert f"snooze:{session_id}" in message_buttons(reminder)
    return session_id


async def test_keep_going_answers_the_card_and_asks_again_later(
    discord: Discord, sessions_of: Any, frozen: Clock, inbox: Inbox
) -> None:
    session_id = await reminded(discord, frozen, inbox)
    frozen.advance(minutes=5)

    body = await discord.click(f"snooze:{session_id}", guild=False)

    assert body["type"] == 7
    again = frozen.now() + timedelta(minutes=120)
    assert content(body) == f"Keep going! I'll ask again <t:{int(again.timestamp())}:R>."
    assert "Running" in description(body)
    assert button_ids(body) == [
        f"pause:{session_id}",
        f"out:{session_id}",
        f"edit_purpose:{session_id}",
    ]
    [stored] = await sessions_of(ALICE)
    assert stored.remind_at == again

    frozen.advance(minutes=119)
    assert (await tick()).reminded == 0
    frozen.advance(minutes=1)
    assert (await tick()).reminded == 1
    assert len(inbox.to(ALICE)) == 2


async def test_the_reminders_other_buttons_act_on_the_session(
    discord: Discord, sessions_of: Any, frozen: Clock, inbox: Inbox
) -> None:
    session_id = await reminded(discord, frozen, inbox)

    body = await discord.click(f"pause:{session_id}", guild=False)

    assert body["type"] == 7
    assert "Paused" in description(body)
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.PAUSED


async def test_keep_going_on_someone_elses_session_changes_nothing(
    discord: Discord, sessions_of: Any, frozen: Clock, inbox: Inbox
) -> None:
    session_id = await reminded(discord, frozen, inbox)

    body = await discord.click(f"snooze:{session_id}", BOB)

    assert body["type"] == 4
    assert is_ephemeral(body)
    assert content(body).endswith(NOT_YOURS)
    [stored] = await sessions_of(ALICE)
    assert stored.remind_at is None


async def test_keep_going_on_a_session_that_ended_shows_it_as_it_is(
    discord: Discord, frozen: Clock, inbox: Inbox
) -> None:
    session_id = await reminded(discord, frozen, inbox)
    await discord.run("session out")

    body = await discord.click(f"snooze:{session_id}", guild=False)

    assert body["type"] == 7
    assert "has ended" in content(body)
    assert button_ids(body)[0] == f"confirm:{session_id}"


async def test_keep_going_with_reminders_turned_off_says_so(
    discord: Discord, sessions_of: Any, frozen: Clock, inbox: Inbox
) -> None:
    session_id = await reminded(discord, frozen, inbox)
    await discord.run("settings reminders", minutes="off")

    body = await discord.click(f"snooze:{session_id}", guild=False)

    assert body["type"] == 7
    assert content(body) == "Keep going! Reminders are off, so I won't ask again."
    [stored] = await sessions_of(ALICE)
    assert stored.remind_at is None


# --- Plan this week --------------------------------------------------------------------


async def planned(user: str, week: date, **hours: float) -> None:
    async with transaction() as db:
        for subject, value in hours.items():
            await allocation.set_allocation(db, user, subject, value, week=week)


async def plan_of(committed: async_sessionmaker[AsyncSession], week: date) -> dict[int, int]:
    async with committed() as db:
        rows = await db.execute(
            select(WeeklyAllocation.subject_id, WeeklyAllocation.minutes_allocated).where(
                WeeklyAllocation.user_id == ALICE, WeeklyAllocation.week_start_date == week
            )
        )
        return {subject: minutes for subject, minutes in rows}


async def test_plan_this_week_offers_to_copy_last_weeks_plan(discord: Discord) -> None:
    await planned(ALICE, LAST_WEEK, Thesis=2, Maths=1.5)

    body = await discord.click(f"plan:{LAST_WEEK.isoformat()}", guild=False)

    assert body["type"] == 4
    assert is_ephemeral(body)
    assert body["data"]["embeds"][0]["title"] == "Week of Mon 16 Nov 2026"
    assert content(body) == "Copy the plan of the week of 9 Nov, or plan with `/alloc set`."
    assert "plan_copy:2026-11-09" in button_ids(body)
    assert "week:2026-11-09" in button_ids(body)  # ◀ still steps through weeks


async def test_plan_this_week_after_an_unplanned_week_has_nothing_to_copy(
    discord: Discord,
) -> None:
    body = await discord.click(f"plan:{LAST_WEEK.isoformat()}", guild=False)

    assert content(body) == "Nothing was planned in the week of 9 Nov. Plan with `/alloc set`."
    assert not [ref for ref in button_ids(body) if ref.startswith("plan_copy:")]


async def test_copying_a_plan_fills_in_this_week_and_keeps_what_is_planned(
    discord: Discord, committed: async_sessionmaker[AsyncSession]
) -> None:
    await planned(ALICE, LAST_WEEK, Thesis=2, Maths=1.5)
    await planned(ALICE, THIS_WEEK, Thesis=5)

    body = await discord.click("plan_copy:2026-11-09", guild=False)

    assert body["type"] == 7
    assert content(body) == (
        "Copied 1 subject from the week of 9 Nov. 1 already planned this week kept their hours."
    )
    assert "**Maths**\n`░░░░░░░░░░` 0m / 1h 30m" in description(body)
    assert "**Thesis**\n`░░░░░░░░░░` 0m / 5h" in description(body)
    assert sorted((await plan_of(committed, THIS_WEEK)).values()) == [90, 300]
    assert sorted((await plan_of(committed, LAST_WEEK)).values()) == [90, 120]

    again = await discord.click("plan_copy:2026-11-09", guild=False)
    assert content(again) == "This week already has every subject of the week of 9 Nov."
    assert sorted((await plan_of(committed, THIS_WEEK)).values()) == [90, 300]


async def test_copying_an_empty_week_says_so(discord: Discord) -> None:
    body = await discord.click("plan_copy:2026-11-02", guild=False)

    assert body["type"] == 7
    assert content(body) == "Nothing was planned in the week of 2 Nov."


@pytest.mark.parametrize("ref", ["nope", "2026-13-01", "20261109", ""])
async def test_unreadable_weeks_are_no_longer_supported(discord: Discord, ref: str) -> None:
    for action in ("plan", "plan_copy"):
        body = await discord.click(f"{action}:{ref}")
        assert is_ephemeral(body)
        assert content(body).endswith("This button is no longer supported.")


# --- Review ----------------------------------------------------------------------------


async def unconfirmed(frozen: Clock, count: int, user: str = ALICE) -> list[int]:
    ids = []
    async with transaction() as db:
        for n in range(count):
            start = frozen.now() - timedelta(hours=2 * (count - n) + 1)
            session = await session_started_at(
                db, user, start, subject=f"Subject {n}", ended_at=start + timedelta(minutes=50)
            )
            ids.append(session.id)
    return ids


async def test_review_lists_the_sessions_waiting_a_few_at_a_time(
    discord: Discord, frozen: Clock
) -> None:
    ids = await unconfirmed(frozen, 7)

    first = await discord.click("review:0", guild=False)

    assert first["type"] == 4
    assert is_ephemeral(first)
    assert first["data"]["embeds"][0]["title"] == "Waiting for your review: 7"
    assert button_ids(first) == [f"card:{n}" for n in ids[:5]] + [f"review:{ids[4]}"]
    assert "**1.** Subject 0 · <t:" in description(first)
    assert "· 50m" in description(first)

    rest = await discord.click(f"review:{ids[4]}", guild=False)
    assert rest["type"] == 7
    assert button_ids(rest) == [f"card:{n}" for n in ids[5:]]

    # Reviewed elsewhere meanwhile: the list, updated in place, says so and loses its buttons.
    for session_id in ids[5:]:
        await discord.click(f"confirm:{session_id}", guild=False)
    done = await discord.click(f"review:{ids[4]}", guild=False)
    assert done["type"] == 7
    assert content(done) == "✅ Nothing waits for your review."
    assert (done["data"]["embeds"], done["data"]["components"]) == ([], [])


async def test_a_listed_session_opens_its_card_to_confirm(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    [session_id] = await unconfirmed(frozen, 1)

    card = await discord.click(f"card:{session_id}", guild=False)
    assert card["type"] == 4
    assert is_ephemeral(card)
    assert button_ids(card)[0] == f"confirm:{session_id}"

    confirmed = await discord.click(f"confirm:{session_id}", guild=False)
    assert confirmed["type"] == 7
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.ENDED_CONFIRMED
    nothing = await discord.click("review:0", guild=False)
    assert content(nothing) == "✅ Nothing waits for your review."


async def test_someone_elses_card_stays_closed(discord: Discord, frozen: Clock) -> None:
    [session_id] = await unconfirmed(frozen, 1, user=BOB)

    body = await discord.click(f"card:{session_id}")

    assert is_ephemeral(body)
    assert content(body).endswith(NOT_YOURS)
    assert "embeds" not in body["data"]


# --- Settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "minutes", "said"),
    [("45", 45, "**45m**"), ("1h 30m", 90, "**1h 30m**"), ("1440", 1440, "**24h**")],
)
async def test_settings_reminders(discord: Discord, typed: str, minutes: int, said: str) -> None:
    body = await discord.run("settings reminders", guild=False, minutes=typed)

    assert is_ephemeral(body)
    assert said in content(body)
    assert (await user_row(ALICE)).remind_after_minutes == minutes


async def test_settings_reminders_off_and_back_on(discord: Discord) -> None:
    off = await discord.run("settings reminders", minutes=" OFF ")
    assert content(off).startswith("Reminders are off.")
    assert (await user_row(ALICE)).remind_after_minutes is None

    await discord.run("settings reminders", minutes="2h")
    assert (await user_row(ALICE)).remind_after_minutes == 120


@pytest.mark.parametrize("typed", ["0", "1441", "25h", "soon", "-5", "20s", ""])
async def test_settings_reminders_refuses_what_it_cannot_use(discord: Discord, typed: str) -> None:
    await discord.run("settings reminders", minutes="45")

    body = await discord.run("settings reminders", minutes=typed)

    assert body["type"] == 4
    assert is_ephemeral(body)
    assert content(body).startswith("⚠️")
    assert (await user_row(ALICE)).remind_after_minutes == 45


async def test_settings_reminders_reschedules_the_running_session(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    await discord.run("session in", subject="thesis")
    started = frozen.now()
    await discord.run("settings reminders", minutes="30")

    [stored] = await sessions_of(ALICE)
    assert stored.remind_at == started + timedelta(minutes=30)


async def test_settings_summary_off_and_on(discord: Discord) -> None:
    off = await discord.run("settings summary", guild=False, weekly="off")
    assert is_ephemeral(off)
    assert content(off) == "Weekly summaries are off."
    assert (await user_row(ALICE)).weekly_summary is False

    on = await discord.run("settings summary", guild=False, weekly="on")
    assert "Every Monday at 08:00 in Australia/Sydney" in content(on)
    assert (await user_row(ALICE)).weekly_summary is True

    bad = await discord.run("settings summary", weekly="sometimes")
    assert is_ephemeral(bad)
    assert content(bad).startswith("⚠️")
    assert (await user_row(ALICE)).weekly_summary is True


async def test_newcomers_are_reminded_after_two_hours_and_get_summaries(
    discord: Discord,
) -> None:
    await discord.run("session in", subject="thesis")
    user = await user_row(ALICE)
    assert (user.remind_after_minutes, user.weekly_summary) == (120, True)
