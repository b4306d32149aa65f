"""Card buttons and modals: updates in place, ownership, stale cards, duration input."""

from __future__ import annotations

from typing import Any

import pytest

from app.clock import Clock
from app.models import SessionStatus
from tests.discord.support import (
    ALICE,
    BOB,
    Discord,
    button_ids,
    card_session_id,
    description,
    is_ephemeral,
)

CONTEXTS = pytest.mark.parametrize("guild", [True, False], ids=["guild", "dm"])
NOT_YOURS = "This session belongs to someone else."


def _content(body: dict[str, Any]) -> str:
    return str(body["data"].get("content") or "")


async def _start(discord: Discord, user: str = ALICE, **kwargs: Any) -> int:
    body = await discord.run("session in", user, subject="search_engine", **kwargs)
    return card_session_id(body)


async def _ended(discord: Discord, frozen: Clock, minutes: int = 90) -> int:
    session_id = await _start(discord, purpose="finish web scraper")
    frozen.advance(minutes=minutes)
    await discord.click(f"out:{session_id}")
    return session_id


def _modal_input(body: dict[str, Any]) -> dict[str, Any]:
    [label] = body["data"]["components"]
    assert label["type"] == 18
    field = label["component"]
    assert field["type"] == 4
    return field  # type: ignore[no-any-return]


@CONTEXTS
async def test_buttons_walk_the_whole_state_machine(
    discord: Discord, sessions_of: Any, frozen: Clock, guild: bool
) -> None:
    session_id = await _start(discord, guild=guild)

    frozen.advance(minutes=30)
    paused = await discord.click(f"pause:{session_id}", guild=guild)
    assert paused["type"] == 7
    assert "Paused" in description(paused)
    assert button_ids(paused)[0] == f"resume:{session_id}"
    assert _content(paused) == ""

    frozen.advance(minutes=10)
    resumed = await discord.click(f"resume:{session_id}", guild=guild)
    assert resumed["type"] == 7
    assert "Running" in description(resumed)

    frozen.advance(minutes=50)
    ended = await discord.click(f"out:{session_id}", guild=guild)
    assert ended["type"] == 7
    assert "Effective: **1h 20m**" in description(ended)
    assert button_ids(ended) == [
        f"confirm:{session_id}",
        f"reopen:{session_id}",
        f"adjust_time:{session_id}",
        f"edit_purpose:{session_id}",
    ]

    confirmed = await discord.click(f"confirm:{session_id}", guild=guild)
    assert confirmed["type"] == 7
    assert "Confirmed" in description(confirmed)
    assert confirmed["data"]["components"] == []
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.ENDED_CONFIRMED


async def test_reopen_counts_the_gap_as_paused(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen, minutes=60)
    frozen.advance(minutes=15)
    reopened = await discord.click(f"reopen:{session_id}")
    assert reopened["type"] == 7
    assert "Running" in description(reopened)
    assert "Worked so far: **1h**" in description(reopened)
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.RUNNING
    assert stored.total_paused_seconds == 900


async def test_reopen_while_tracking_another_is_a_private_conflict(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    first = await _ended(discord, frozen)
    await discord.run("session in", subject="gym")
    body = await discord.click(f"reopen:{first}")
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "gym" in _content(body)
    statuses = [s.status for s in await sessions_of(ALICE)]
    assert statuses == [SessionStatus.ENDED_UNCONFIRMED, SessionStatus.RUNNING]


@CONTEXTS
async def test_adjust_time_modal_opens_with_a_label_and_the_current_time(
    discord: Discord, frozen: Clock, guild: bool
) -> None:
    session_id = await _ended(discord, frozen, minutes=95)
    body = await discord.click(f"adjust_time:{session_id}", guild=guild)
    assert body["type"] == 9
    assert body["data"]["custom_id"] == f"adjust_time:{session_id}"
    field = _modal_input(body)
    assert field["custom_id"] == "duration"
    assert field["value"] == "1h 35m"


@pytest.mark.parametrize("typed", ["1h 20m", "80m", "1:20", "4800s", " 1H20M ", "80"])
async def test_adjust_time_accepts_every_format(
    discord: Discord, sessions_of: Any, frozen: Clock, typed: str
) -> None:
    session_id = await _ended(discord, frozen, minutes=95)
    body = await discord.submit(f"adjust_time:{session_id}", {"duration": typed})
    assert body["type"] == 7
    assert "Effective: **1h 20m** (adjusted)" in description(body)
    assert "Measured: 1h 35m" in description(body)
    [stored] = await sessions_of(ALICE)
    assert stored.effective_override_seconds == 4800
    assert stored.status == SessionStatus.ENDED_UNCONFIRMED


async def test_adjust_time_accepts_legacy_action_rows_in_dms(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen)
    body = await discord.submit(
        f"adjust_time:{session_id}", {"duration": "1:20"}, guild=False, legacy_rows=True
    )
    assert body["type"] == 7
    [stored] = await sessions_of(ALICE)
    assert stored.effective_override_seconds == 4800


@pytest.mark.parametrize("typed", ["abc", "1:75", "-5", "25h", ""])
async def test_adjust_time_rejects_bad_durations_privately(
    discord: Discord, sessions_of: Any, frozen: Clock, typed: str
) -> None:
    session_id = await _ended(discord, frozen)
    body = await discord.submit(f"adjust_time:{session_id}", {"duration": typed})
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "1h 20m, 80m, 1:20 or 4800s" in _content(body)
    [stored] = await sessions_of(ALICE)
    assert stored.effective_override_seconds is None
    assert stored.status == SessionStatus.ENDED_UNCONFIRMED


async def test_adjust_time_twice_to_the_same_value_notes_it(
    discord: Discord, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen)
    await discord.submit(f"adjust_time:{session_id}", {"duration": "80m"})
    again = await discord.submit(f"adjust_time:{session_id}", {"duration": "1h 20m"})
    assert again["type"] == 7
    assert _content(again) == "Already set to 1h 20m."


@CONTEXTS
async def test_edit_purpose_prefills_and_updates(
    discord: Discord, sessions_of: Any, guild: bool
) -> None:
    session_id = await _start(discord, guild=guild, purpose="finish web scraper")
    body = await discord.click(f"edit_purpose:{session_id}", guild=guild)
    assert body["type"] == 9
    assert body["data"]["custom_id"] == f"edit_purpose:{session_id}"
    field = _modal_input(body)
    assert field["custom_id"] == "purpose"
    assert field["value"] == "finish web scraper"
    assert field["max_length"] == 200

    updated = await discord.submit(
        f"edit_purpose:{session_id}", {"purpose": "write the parser"}, guild=guild
    )
    assert updated["type"] == 7
    assert "write the parser" in description(updated)
    [stored] = await sessions_of(ALICE)
    assert stored.goal == "write the parser"

    cleared = await discord.submit(f"edit_purpose:{session_id}", {"purpose": "  "}, guild=guild)
    assert "🎯" not in description(cleared)
    [stored] = await sessions_of(ALICE)
    assert stored.goal is None


async def test_edit_purpose_without_a_goal_has_no_prefill(discord: Discord) -> None:
    session_id = await _start(discord)
    field = _modal_input(await discord.click(f"edit_purpose:{session_id}"))
    assert "value" not in field


async def test_edit_purpose_too_long_is_rejected(discord: Discord, sessions_of: Any) -> None:
    session_id = await _start(discord, purpose="short")
    body = await discord.submit(f"edit_purpose:{session_id}", {"purpose": "x" * 201})
    assert is_ephemeral(body)
    [stored] = await sessions_of(ALICE)
    assert stored.goal == "short"


async def test_edit_purpose_on_an_ended_session_keeps_the_summary(
    discord: Discord, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen)
    body = await discord.submit(f"edit_purpose:{session_id}", {"purpose": "shipped"})
    assert body["type"] == 7
    assert "shipped" in description(body)
    assert button_ids(body)[0] == f"confirm:{session_id}"


async def test_modal_submitted_outside_a_card_posts_a_new_card(discord: Discord) -> None:
    session_id = await _start(discord)
    body = await discord.submit(f"edit_purpose:{session_id}", {"purpose": "x"}, from_card=False)
    assert body["type"] == 4
    assert not is_ephemeral(body)


@pytest.mark.parametrize("action", ["pause", "out", "edit_purpose"])
@CONTEXTS
async def test_someone_elses_card_is_left_alone(
    discord: Discord, sessions_of: Any, action: str, guild: bool
) -> None:
    session_id = await _start(discord, purpose="mine")
    body = await discord.click(f"{action}:{session_id}", BOB, guild=guild)
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert _content(body).endswith(NOT_YOURS)
    assert "embeds" not in body["data"]
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.RUNNING


@pytest.mark.parametrize("action", ["confirm", "reopen", "adjust_time"])
async def test_someone_elses_ended_card_is_left_alone(
    discord: Discord, sessions_of: Any, frozen: Clock, action: str
) -> None:
    session_id = await _ended(discord, frozen)
    body = await discord.click(f"{action}:{session_id}", BOB)
    assert is_ephemeral(body)
    assert _content(body).endswith(NOT_YOURS)
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.ENDED_UNCONFIRMED


async def test_someone_elses_modal_submission_changes_nothing(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen)
    adjusted = await discord.submit(f"adjust_time:{session_id}", {"duration": "5m"}, BOB)
    renamed = await discord.submit(f"edit_purpose:{session_id}", {"purpose": "hijack"}, BOB)
    for body in (adjusted, renamed):
        assert is_ephemeral(body)
        assert _content(body).endswith(NOT_YOURS)
    [stored] = await sessions_of(ALICE)
    assert stored.effective_override_seconds is None
    assert stored.goal == "finish web scraper"


async def test_pause_on_a_stale_paused_card_shows_the_true_state(discord: Discord) -> None:
    session_id = await _start(discord)
    await discord.run("session pause")
    body = await discord.click(f"pause:{session_id}")
    assert body["type"] == 7
    assert _content(body) == "Already paused."
    assert "Paused" in description(body)
    assert button_ids(body)[0] == f"resume:{session_id}"


@pytest.mark.parametrize("action", ["pause", "resume", "out"])
async def test_active_buttons_on_an_ended_session_rerender_the_summary(
    discord: Discord, sessions_of: Any, frozen: Clock, action: str
) -> None:
    session_id = await _ended(discord, frozen)
    body = await discord.click(f"{action}:{session_id}")
    assert body["type"] == 7
    assert _content(body)  # says why nothing happened
    assert "Effective:" in description(body)
    assert button_ids(body)[0] == f"confirm:{session_id}"
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.ENDED_UNCONFIRMED


async def test_review_buttons_on_a_reopened_session_rerender_it(
    discord: Discord, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen)
    await discord.click(f"reopen:{session_id}")
    for action in ("confirm", "adjust_time"):
        body = await discord.click(f"{action}:{session_id}")
        assert body["type"] == 7, action
        assert _content(body)
        assert "Running" in description(body)
        assert button_ids(body)[0] == f"pause:{session_id}"
    late = await discord.submit(f"adjust_time:{session_id}", {"duration": "10m"})
    assert late["type"] == 7
    assert "Clock out first" in _content(late)


async def test_buttons_on_a_confirmed_card_rerender_it_without_buttons(
    discord: Discord, frozen: Clock
) -> None:
    session_id = await _ended(discord, frozen)
    await discord.click(f"confirm:{session_id}")
    for action in ("confirm", "reopen", "adjust_time", "edit_purpose", "pause"):
        body = await discord.click(f"{action}:{session_id}")
        assert body["type"] == 7, action
        assert _content(body), action
        assert body["data"]["components"] == []


@pytest.mark.parametrize(
    "custom_id",
    ["frobnicate:1", "switch:octo-org/hello-world#12", "pause:abc", "pause:", "pause", ""],
)
async def test_unknown_or_unreadable_buttons_are_no_longer_supported(
    discord: Discord, custom_id: str
) -> None:
    body = await discord.click(custom_id)
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert _content(body).endswith("This button is no longer supported.")


async def test_button_for_a_deleted_session(discord: Discord) -> None:
    body = await discord.click("pause:987654321")
    assert is_ephemeral(body)
    assert "No session" in _content(body)


async def test_unknown_modal_is_a_private_error(discord: Discord) -> None:
    body = await discord.submit("rename:1", {"name": "x"})
    assert body["type"] == 4
    assert is_ephemeral(body)
