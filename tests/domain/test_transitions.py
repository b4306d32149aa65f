"""The session state machine, table-driven: every action from every state.

A legal action changes the status as the state table says; an action whose target state
already holds changes nothing and says so (`Outcome.already`); anything else is a Conflict
that leaves the row untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import history
from app import session as sessions
from app.clock import Clock
from app.errors import Conflict, NotFound, NotOwner
from app.issues import IssueRef
from app.models import Session, SessionSource, SessionStatus, StopReason
from tests.domain.conftest import (
    ENDED_CONFIRMED,
    ENDED_UNCONFIRMED,
    NONE,
    PAUSED,
    RUNNING,
    STATES,
    active_counts,
    fresh_user_id,
    row_of,
    session_in_state,
)

Action = Callable[[AsyncSession, str, int], Awaitable[Any]]

ACTIONS: dict[str, Action] = {
    "clock_in": lambda db, user, _id: sessions.clock_in(
        db, user, "Physics", "new work", source=SessionSource.WEB
    ),
    "pause": lambda db, user, sid: sessions.pause(db, user, sid),
    "resume": lambda db, user, sid: sessions.resume(db, user, sid),
    "clock_out": lambda db, user, sid: sessions.clock_out(db, user, sid),
    "adjust_time": lambda db, user, sid: sessions.adjust_time(db, user, sid, "45m"),
    "edit_purpose": lambda db, user, sid: sessions.edit_goal(db, user, sid, "a new purpose"),
    "confirm": lambda db, user, sid: sessions.confirm(db, user, sid),
    "reopen": lambda db, user, sid: sessions.reopen(db, user, sid),
}
SESSION_ACTIONS = [name for name in ACTIONS if name != "clock_in"]

ALREADY = "already"
CONFLICT = "conflict"
NOT_FOUND = "not_found"
EU, EC = ENDED_UNCONFIRMED, ENDED_CONFIRMED

# Columns: none, RUNNING, PAUSED, ENDED_UNCONFIRMED, ENDED_CONFIRMED. A status means the
# action applies and leaves the session in that status.
TABLE: dict[str, tuple[str, str, str, str, str]] = {
    "clock_in": (RUNNING, CONFLICT, CONFLICT, RUNNING, RUNNING),
    "pause": (NOT_FOUND, PAUSED, ALREADY, CONFLICT, CONFLICT),
    "resume": (NOT_FOUND, ALREADY, RUNNING, CONFLICT, CONFLICT),
    "clock_out": (NOT_FOUND, EU, EU, ALREADY, ALREADY),
    "adjust_time": (NOT_FOUND, CONFLICT, CONFLICT, EU, CONFLICT),
    "edit_purpose": (NOT_FOUND, RUNNING, PAUSED, EU, EC),
    "confirm": (NOT_FOUND, CONFLICT, CONFLICT, EC, ALREADY),
    # Undoing a clock-out of a session that is still open has nothing to undo.
    "reopen": (NOT_FOUND, ALREADY, ALREADY, RUNNING, CONFLICT),
}

CASES = [
    pytest.param(action, state, TABLE[action][column], id=f"{action}-from-{state}")
    for action in ACTIONS
    for column, state in enumerate(STATES)
]

UNKNOWN_ID = 987_654_321


async def _prepared(db: AsyncSession, user: str, state: str) -> int:
    if state == NONE:
        return UNKNOWN_ID
    return (await session_in_state(db, user, state)).id


@pytest.mark.parametrize(("action", "state", "expected"), CASES)
async def test_action_from_state(
    db: AsyncSession, frozen: Clock, action: str, state: str, expected: str
) -> None:
    user = fresh_user_id()
    session_id = await _prepared(db, user, state)
    before = await row_of(db, session_id) if state != NONE else None
    now = frozen.advance(90)

    if expected == NOT_FOUND:
        with pytest.raises(NotFound) as not_found:
            await ACTIONS[action](db, user, session_id)
        assert not isinstance(not_found.value, NotOwner)
        return

    if expected == CONFLICT:
        with pytest.raises(Conflict) as conflict:
            await ACTIONS[action](db, user, session_id)
        assert conflict.value.detail
        assert before is not None
        assert await row_of(db, session_id) == before
        return

    result = await ACTIONS[action](db, user, session_id)

    if expected == ALREADY:
        assert isinstance(result, sessions.Outcome)
        assert result.already
        assert isinstance(result.notice, str) and result.notice
        assert before is not None
        assert await row_of(db, session_id) == before
        assert result.session.status == before["status"]
        return

    if action == "clock_in":
        assert isinstance(result, Session)
        assert result.status == SessionStatus.RUNNING
        assert result.id != session_id
        assert result.started_at == now
        assert result.subject.name == "Physics"
        if before is not None:
            assert await row_of(db, session_id) == before
        assert (await active_counts(db)).get(user) == 1
        return

    assert isinstance(result, sessions.Outcome)
    assert not result.already
    assert result.notice is None
    assert result.session.id == session_id
    assert result.session.status == expected
    after = await row_of(db, session_id)
    assert after["status"] == expected
    assert after["updated_at"] == now
    assert after["user_id"] == user


# Which actions, once applied, answer "already" when the same click arrives again.
REPEATABLE = [
    pytest.param(action, state, id=f"{action}-twice-from-{state}")
    for action in SESSION_ACTIONS
    for column, state in enumerate(STATES)
    if TABLE[action][column] in (RUNNING, PAUSED, EU, EC)
]


@pytest.mark.parametrize(("action", "state"), REPEATABLE)
async def test_repeated_clicks_are_harmless(
    db: AsyncSession, frozen: Clock, action: str, state: str
) -> None:
    user = fresh_user_id()
    session_id = await _prepared(db, user, state)
    frozen.advance(30)
    first = await ACTIONS[action](db, user, session_id)
    assert not first.already
    applied = await row_of(db, session_id)
    frozen.advance(30)

    again = await ACTIONS[action](db, user, session_id)

    assert again.already
    assert again.notice
    assert await row_of(db, session_id) == applied


@pytest.mark.parametrize("allow_confirmed", [True, False])
async def test_adjust_confirmed_session_only_from_web(
    db: AsyncSession, frozen: Clock, allow_confirmed: bool
) -> None:
    user = fresh_user_id()
    confirmed = await session_in_state(db, user, ENDED_CONFIRMED)
    before = await row_of(db, confirmed.id)

    if not allow_confirmed:
        with pytest.raises(Conflict):
            await sessions.adjust_time(db, user, confirmed.id, "1h")
        assert await row_of(db, confirmed.id) == before
        return

    outcome = await sessions.adjust_time(db, user, confirmed.id, "1h", allow_confirmed=True)
    assert not outcome.already
    after = await row_of(db, confirmed.id)
    assert after["status"] == ENDED_CONFIRMED
    assert after["effective_override_seconds"] == 3600
    again = await sessions.adjust_time(db, user, confirmed.id, 3600, allow_confirmed=True)
    assert again.already


async def test_reopen_while_another_session_is_active_conflicts(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    ended = await session_in_state(db, user, ENDED_UNCONFIRMED, subject="Chemistry")
    await sessions.clock_in(db, user, "Biology", source=SessionSource.API)
    before = await row_of(db, ended.id)
    frozen.advance(60)

    with pytest.raises(Conflict) as conflict:
        await sessions.reopen(db, user, ended.id)

    assert "Biology" in conflict.value.detail
    assert await row_of(db, ended.id) == before
    assert (await active_counts(db))[user] == 1


@pytest.mark.parametrize("state", [RUNNING, PAUSED])
async def test_clock_in_while_active_names_the_active_subject(
    db: AsyncSession, frozen: Clock, state: str
) -> None:
    user = fresh_user_id()
    active = await session_in_state(db, user, state, subject="Linear Algebra")

    with pytest.raises(Conflict) as conflict:
        await sessions.clock_in(db, user, "History", source=SessionSource.DISCORD)

    assert "Linear Algebra" in conflict.value.detail
    assert (await sessions.current(db, user)).id == active.id  # type: ignore[union-attr]
    assert (await active_counts(db))[user] == 1


async def test_clock_in_while_active_changes_nothing_even_for_the_same_subject(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    active = await session_in_state(db, user, RUNNING, subject="Maths")
    before = await row_of(db, active.id)
    with pytest.raises(Conflict):
        await sessions.clock_in(db, user, "maths", source=SessionSource.DISCORD)
    assert await row_of(db, active.id) == before


STRANGER_CASES = [
    pytest.param(action, state, id=f"{action}-by-stranger-on-{state}")
    for action in [*SESSION_ACTIONS, "get", "edit_note", "delete"]
    for state in STATES
    if state != NONE
]

EXTRA: dict[str, Action] = {
    "get": lambda db, user, sid: sessions.get(db, user, sid),
    "edit_note": lambda db, user, sid: sessions.edit_note(db, user, sid, "mine now"),
    "delete": lambda db, user, sid: sessions.delete(db, user, sid),
}


@pytest.mark.parametrize(("action", "state"), STRANGER_CASES)
async def test_acting_on_someone_elses_session_is_not_owner(
    db: AsyncSession, frozen: Clock, action: str, state: str
) -> None:
    owner, stranger = fresh_user_id("owner"), fresh_user_id("stranger")
    target = await session_in_state(db, owner, state)
    before = await row_of(db, target.id)
    frozen.advance(60)

    with pytest.raises(NotOwner) as refused:
        await {**ACTIONS, **EXTRA}[action](db, stranger, target.id)

    assert isinstance(refused.value, NotFound)
    assert refused.value.status_code == 404
    assert await row_of(db, target.id) == before


@pytest.mark.parametrize("action", [*SESSION_ACTIONS, "get", "edit_note", "delete"])
async def test_unknown_session_is_not_found(db: AsyncSession, frozen: Clock, action: str) -> None:
    user = fresh_user_id()
    await session_in_state(db, user, RUNNING)
    with pytest.raises(NotFound) as missing:
        await {**ACTIONS, **EXTRA}[action](db, user, UNKNOWN_ID)
    assert not isinstance(missing.value, NotOwner)


async def test_clock_out_active_needs_an_active_session(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    with pytest.raises(Conflict):
        await sessions.clock_out_active(db, user, reason=StopReason.USER)

    paused = await session_in_state(db, user, PAUSED)
    frozen.advance(120)
    ended = await sessions.clock_out_active(db, user, "wrapped up", reason=StopReason.STALE)

    assert ended.id == paused.id
    row = await row_of(db, paused.id)
    assert row["status"] == ENDED_UNCONFIRMED
    assert row["stop_reason"] == "stale"
    assert row["goal"] == "wrapped up"
    assert row["total_paused_seconds"] == 120
    with pytest.raises(Conflict):
        await sessions.clock_out_active(db, user, reason=StopReason.USER)


async def test_end_locked_ends_active_and_leaves_ended_alone(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    running = await session_in_state(db, user, RUNNING)
    frozen.advance(60)
    ended = await sessions.end_locked(db, running, StopReason.ISSUE_CLOSED)
    row = await row_of(db, running.id)
    assert ended.status == ENDED_UNCONFIRMED
    assert row["stop_reason"] == "issue_closed"
    frozen.advance(60)
    assert (await sessions.end_locked(db, ended, StopReason.STALE)).status == ENDED_UNCONFIRMED
    assert await row_of(db, running.id) == row


async def test_clock_out_with_purpose_replaces_the_goal_and_blank_keeps_it(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    first = await session_in_state(db, user, RUNNING, goal="original")
    await sessions.clock_out(db, user, first.id, "   ")
    assert (await row_of(db, first.id))["goal"] == "original"

    second = await session_in_state(db, user, RUNNING, goal="original")
    await sessions.clock_out(db, user, second.id, "  what   I did  ")
    assert (await row_of(db, second.id))["goal"] == "what I did"


async def test_edit_purpose_empty_clears_and_long_is_rejected(
    db: AsyncSession, frozen: Clock
) -> None:
    from app.errors import InvalidInput

    user = fresh_user_id()
    target = await session_in_state(db, user, ENDED_CONFIRMED, goal="something")
    cleared = await sessions.edit_goal(db, user, target.id, "")
    assert not cleared.already
    assert (await row_of(db, target.id))["goal"] is None
    assert (await sessions.edit_goal(db, user, target.id, None)).already

    await sessions.edit_goal(db, user, target.id, "x" * 200)
    with pytest.raises(InvalidInput):
        await sessions.edit_goal(db, user, target.id, "x" * 201)
    assert (await row_of(db, target.id))["goal"] == "x" * 200


@pytest.mark.parametrize(
    ("subject", "goal"), [("", None), ("   ", "ok"), ("x" * 65, None), ("Maths", "g" * 201)]
)
async def test_clock_in_rejects_bad_input_and_creates_nothing(
    db: AsyncSession, frozen: Clock, subject: str, goal: str | None
) -> None:
    from app.errors import InvalidInput

    user = fresh_user_id()
    with pytest.raises(InvalidInput):
        await sessions.clock_in(db, user, subject, goal, source=SessionSource.DISCORD)
    assert await sessions.current(db, user) is None
    assert (await history.page(db, user)).count == 0


async def test_clock_in_records_source_issue_and_username(db: AsyncSession, frozen: Clock) -> None:
    from app.accounts import get_user

    user = fresh_user_id()
    issue = IssueRef("octo-org/hello-world", 12, "https://github.com/o/h/issues/12")
    started = await sessions.clock_in(
        db,
        user,
        "octo-org/hello-world",
        "  #12   Fix the thing ",
        source=SessionSource.GITHUB,
        username="octocat",
        issue=issue,
    )
    row = await row_of(db, started.id)
    assert row["source"] == "github"
    assert row["goal"] == "#12 Fix the thing"
    assert (row["github_repo"], row["github_issue_number"], row["github_issue_url"]) == (
        issue.repo,
        issue.number,
        issue.url,
    )
    assert row["started_at"] == row["created_at"] == frozen.now()
    assert (await get_user(db, user)).username == "octocat"
    assert (await sessions.current(db, user)).id == started.id  # type: ignore[union-attr]
