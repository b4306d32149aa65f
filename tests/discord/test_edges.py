"""Repeats, autocomplete, races, the 3-second deadline and database outages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import allocation, events
from app import session as sessions
from app.clock import Clock
from app.db import create_engine, database
from app.models import LoginLink, ProcessedEvent, SessionStatus
from server.integrations.discord import deferral
from tests.discord.support import (
    ALICE,
    API_BASE,
    APP_ID,
    BOB,
    Discord,
    button_ids,
    card_session_id,
    click,
    command,
    description,
    is_ephemeral,
    submit,
)

# The production deadline, read before any fixture shrinks or stretches it.
REAL_DEADLINE = deferral.DEADLINE_SECONDS
DATABASE_DOWN = (
    "The database is temporarily unavailable; nothing was changed. Try again in a minute."
)


def _content(body: dict[str, Any]) -> str:
    return str(body["data"].get("content") or "")


# Repeats -------------------------------------------------------------------------------


async def test_a_repeated_command_is_applied_once_and_answered_the_same(
    discord: Discord, sessions_of: Any, committed: async_sessionmaker[AsyncSession]
) -> None:
    payload = command("session in", subject="search_engine")
    first = await discord.send(payload)
    again = await discord.send(payload)

    assert again == first
    assert len(await sessions_of(ALICE)) == 1
    async with committed() as db:
        recorded = await events.find(db, events.DISCORD_INTERACTION, payload["id"])
    assert recorded is not None
    assert recorded.response == first


async def test_a_repeated_click_is_not_applied_again(
    discord: Discord, sessions_of: Any, frozen: Clock
) -> None:
    session_id = card_session_id(await discord.run("session in", subject="gym"))
    pause = click(f"pause:{session_id}")
    first = await discord.send(pause)
    frozen.advance(minutes=5)
    await discord.click(f"resume:{session_id}")
    frozen.advance(minutes=5)

    again = await discord.send(pause)
    assert again == first
    assert "Paused" in description(again)
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.RUNNING
    assert stored.total_paused_seconds == 300


async def test_concurrent_twins_of_one_interaction_apply_once(
    discord: Discord,
    sessions_of: Any,
    committed: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = command("session in", subject="search_engine")
    answers = await asyncio.gather(*(discord.send(payload) for _ in range(5)))
    assert all(answer == answers[0] for answer in answers)
    assert not is_ephemeral(answers[0])
    assert len(await sessions_of(ALICE)) == 1
    async with committed() as db:
        count = await db.scalar(select(func.count()).select_from(ProcessedEvent))
    assert count == 1


async def test_a_sign_in_link_is_neither_stored_nor_given_twice(
    discord: Discord, committed: async_sessionmaker[AsyncSession]
) -> None:
    payload = command("web")
    first = await discord.send(payload)
    again = await discord.send(payload)

    assert "/login/" in _content(first)
    assert is_ephemeral(again)
    assert "/login/" not in json.dumps(again)
    assert "Run /web for a new one" in _content(again)
    async with committed() as db:
        recorded = await events.find(db, events.DISCORD_INTERACTION, payload["id"])
        links = await db.scalar(select(func.count()).select_from(LoginLink))
    assert recorded is not None and "/login/" not in json.dumps(recorded.response)
    assert links == 1


async def test_an_interaction_id_replayed_by_someone_else_gets_nothing_of_the_first(
    discord: Discord, sessions_of: Any
) -> None:
    alices = command("session in", subject="thesis", purpose="chapter two")
    first = await discord.send(alices)
    bobs = command("session status", BOB)
    bobs["id"] = alices["id"]

    answer = await discord.send(bobs)

    assert is_ephemeral(answer)
    assert "answered already" in _content(answer)
    assert "thesis" not in json.dumps(answer) and "chapter two" not in json.dumps(answer)
    assert (await discord.send(alices)) == first  # Alice's own repeat still gets her answer
    assert await sessions_of(BOB) == []


async def test_only_successes_are_remembered(discord: Discord, sessions_of: Any) -> None:
    await discord.run("session in", subject="gym")
    payload = command("session in", subject="search_engine")
    refused = await discord.send(payload)
    assert is_ephemeral(refused)
    await discord.run("session out")
    # Discord does not re-send interactions; if it did, one that failed may now succeed.
    again = await discord.send(payload)
    assert not is_ephemeral(again)
    assert [s.status for s in await sessions_of(ALICE)] == [
        SessionStatus.ENDED_UNCONFIRMED,
        SessionStatus.RUNNING,
    ]


# Autocomplete --------------------------------------------------------------------------


async def test_subject_autocomplete_lists_recent_subjects_first(
    discord: Discord, frozen: Clock
) -> None:
    for subject in ("search_engine", "gym", "COMP1130"):
        await discord.run("session in", subject=subject)
        frozen.advance(minutes=5)
        await discord.run("session out")
    await discord.run("alloc set", subject="reading", hours=2)

    body = await discord.run("session in", focused="subject", subject="")
    assert body["type"] == 8
    names = [choice["name"] for choice in body["data"]["choices"]]
    assert names[:3] == ["COMP1130", "gym", "search_engine"]
    assert set(names) == {"COMP1130", "gym", "search_engine", "reading"}
    assert all(choice["value"] == choice["name"] for choice in body["data"]["choices"])

    typed = await discord.run("alloc set", focused="subject", subject="se", guild=False)
    assert [choice["name"] for choice in typed["data"]["choices"]] == ["search_engine"]


async def test_subject_autocomplete_for_a_newcomer_is_empty(discord: Discord) -> None:
    body = await discord.run("session in", focused="subject", subject="any")
    assert body == {"type": 8, "data": {"choices": []}}


async def test_zone_autocomplete(discord: Discord) -> None:
    body = await discord.run("settings timezone", focused="zone", zone="sydney")
    assert body["type"] == 8
    assert body["data"]["choices"][0] == {"name": "Australia/Sydney", "value": "Australia/Sydney"}
    everything = await discord.run("settings timezone", focused="zone", zone="")
    assert len(everything["data"]["choices"]) == 25


async def test_autocomplete_of_an_unknown_option_is_empty(discord: Discord) -> None:
    body = await discord.run("session in", focused="purpose", subject="x", purpose="y")
    assert body == {"type": 8, "data": {"choices": []}}


# Concurrency ---------------------------------------------------------------------------


async def test_twenty_concurrent_clock_ins_make_one_session(
    discord: Discord, sessions_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = [command("session in", subject=f"subject {n}") for n in range(20)]
    raw = [json.dumps(payload).encode() for payload in payloads]
    responses = await asyncio.gather(*(discord.raw(body) for body in raw))

    assert [r.status_code for r in responses] == [200] * 20
    bodies = [r.json() for r in responses]
    cards = [b for b in bodies if not is_ephemeral(b)]
    conflicts = [b for b in bodies if is_ephemeral(b)]
    assert len(cards) == 1
    assert len(conflicts) == 19
    assert all("already tracking" in _content(b) for b in conflicts)
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.RUNNING
    assert card_session_id(cards[0]) == stored.id


async def test_concurrent_clicks_on_one_card_serialise(
    discord: Discord, sessions_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = card_session_id(await discord.run("session in", subject="gym"))
    actions = ["pause", "resume", "out"] * 4
    answers = await asyncio.gather(*(discord.click(f"{a}:{session_id}") for a in actions))
    assert all(answer["type"] in (4, 7) for answer in answers)
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.ENDED_UNCONFIRMED


# The deadline --------------------------------------------------------------------------


class Slow:
    """Holds chosen domain calls until released, with a deadline they are sure to miss.

    The deadline shrinks only when a call is held, so the set-up requests of a test (run
    before that) are answered normally however busy the machine is.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.gate = asyncio.Event()

    def hold(self, module: Any, name: str) -> None:
        original = getattr(module, name)
        gate = self.gate

        async def held(*args: Any, **kwargs: Any) -> Any:
            await gate.wait()
            return await original(*args, **kwargs)

        self.monkeypatch.setattr(module, name, held)
        self.monkeypatch.setattr(deferral, "DEADLINE_SECONDS", 0.05)

    def release(self) -> None:
        self.gate.set()


@pytest_asyncio.fixture(loop_scope="session")
async def slow(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Slow]:
    held = Slow(monkeypatch)
    yield held
    held.release()


def _webhook(token: str) -> str:
    return f"{API_BASE}/webhooks/{APP_ID}/{token}"


async def test_a_slow_command_is_deferred_then_edited(
    discord: Discord, sessions_of: Any, slow: Slow, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow.hold(sessions, "clock_in")
    payload = command("session in", subject="search_engine")
    with respx.mock(assert_all_called=True) as mock:
        edit = mock.patch(_webhook(payload["token"]) + "/messages/@original").respond(200, json={})
        body = await discord.send(payload)
        assert body == {"type": 5}
        slow.release()
        await deferral.drain()

    sent = json.loads(edit.calls.last.request.content)
    [stored] = await sessions_of(ALICE)
    assert sent["embeds"][0]["footer"]["text"] == f"Session {stored.id}"
    assert "flags" not in sent
    assert f"pause:{stored.id}" in json.dumps(sent["components"])
    # The late answer is what a repeat of the interaction now gets.
    monkeypatch.setattr(deferral, "DEADLINE_SECONDS", 30.0)
    assert await discord.send(payload) == {"type": 4, "data": sent}


async def test_a_slow_private_command_defers_privately(discord: Discord, slow: Slow) -> None:
    slow.hold(allocation, "week_report")
    payload = command("alloc show")
    with respx.mock(assert_all_called=True) as mock:
        edit = mock.patch(_webhook(payload["token"]) + "/messages/@original").respond(200, json={})
        body = await discord.send(payload)
        assert body == {"type": 5, "data": {"flags": 64}}
        slow.release()
        await deferral.drain()
    sent = json.loads(edit.calls.last.request.content)
    assert sent["embeds"][0]["title"] == "Week of Mon 16 Nov 2026"


async def test_a_slow_public_command_that_fails_answers_privately(
    discord: Discord, slow: Slow
) -> None:
    await discord.run("session in", subject="gym")
    slow.hold(sessions, "clock_in")
    payload = command("session in", subject="search_engine")
    with respx.mock(assert_all_called=True) as mock:
        delete = mock.delete(_webhook(payload["token"]) + "/messages/@original").respond(204)
        followup = mock.post(_webhook(payload["token"])).respond(200, json={})
        assert await discord.send(payload) == {"type": 5}
        slow.release()
        await deferral.drain()
    assert delete.called
    sent = json.loads(followup.calls.last.request.content)
    assert sent["flags"] == 64
    assert "already tracking gym" in sent["content"]


async def test_a_slow_click_is_deferred_then_updates_the_card(
    discord: Discord, sessions_of: Any, slow: Slow
) -> None:
    session_id = card_session_id(await discord.run("session in", subject="gym"))
    slow.hold(sessions, "pause")
    payload = click(f"pause:{session_id}")
    with respx.mock(assert_all_called=True) as mock:
        edit = mock.patch(_webhook(payload["token"]) + "/messages/@original").respond(200, json={})
        assert await discord.send(payload) == {"type": 6}
        slow.release()
        await deferral.drain()
    sent = json.loads(edit.calls.last.request.content)
    assert "Paused" in sent["embeds"][0]["description"]
    assert sent["components"][0]["components"][0]["custom_id"] == f"resume:{session_id}"
    [stored] = await sessions_of(ALICE)
    assert stored.status == SessionStatus.PAUSED


async def test_a_slow_click_that_fails_follows_up_privately(discord: Discord, slow: Slow) -> None:
    from app import accounts

    session_id = card_session_id(await discord.run("session in", subject="gym"))
    slow.hold(accounts, "lock_user")
    payload = click(f"pause:{session_id}", "1500000000000000005")
    with respx.mock(assert_all_called=True) as mock:
        followup = mock.post(_webhook(payload["token"])).respond(200, json={})
        assert await discord.send(payload) == {"type": 6}
        slow.release()
        await deferral.drain()
    sent = json.loads(followup.calls.last.request.content)
    assert sent["flags"] == 64
    assert sent["content"].endswith("This session belongs to someone else.")


async def test_a_slow_modal_opener_asks_to_press_again(discord: Discord, slow: Slow) -> None:
    session_id = card_session_id(await discord.run("session in", subject="gym"))
    slow.hold(sessions, "get")
    with respx.mock(assert_all_called=False) as mock:
        body = await discord.click(f"edit_purpose:{session_id}")
        slow.release()
        await deferral.drain()
    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "press the button again" in _content(body)
    assert not mock.calls


async def test_a_failed_follow_up_is_logged_not_raised(discord: Discord, slow: Slow) -> None:
    slow.hold(sessions, "clock_in")
    payload = command("session in", subject="gym")
    with respx.mock(assert_all_called=True) as mock:
        mock.patch(_webhook(payload["token"]) + "/messages/@original").mock(
            side_effect=httpx.ConnectError("down")
        )
        assert await discord.send(payload) == {"type": 5}
        slow.release()
        await deferral.drain()


# Outage --------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def outage(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Point the app at a port where nothing listens: every connection is refused."""
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/timetrack")
    monkeypatch.setattr(database, "_engine", engine)
    monkeypatch.setattr(database, "_sessions", async_sessionmaker(engine))
    # At the real deadline: a refused connection must be answered at once, never deferred.
    monkeypatch.setattr(deferral, "DEADLINE_SECONDS", REAL_DEADLINE)
    yield
    await engine.dispose()  # monkeypatch then puts the real engine back


@pytest.mark.parametrize(
    "payload",
    [
        lambda: command("session in", subject="gym"),
        lambda: command("alloc show", guild=False),
        lambda: click("pause:1"),
        lambda: click("edit_purpose:1"),
    ],
    ids=["command", "private-command", "button", "modal-opener"],
)
async def test_a_database_outage_is_a_private_apology(
    discord: Discord, outage: None, payload: Any
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        body = await discord.send(payload())
    assert body["type"] == 4  # answered at once: no deferral was needed
    assert is_ephemeral(body)
    assert _content(body).endswith(DATABASE_DOWN)
    assert not mock.calls


async def test_autocomplete_during_an_outage_is_empty(discord: Discord, outage: None) -> None:
    body = await discord.run("session in", focused="subject", subject="g")
    assert body == {"type": 8, "data": {"choices": []}}


async def test_ping_during_an_outage(discord: Discord, outage: None) -> None:
    body = json.dumps({"type": 1, "id": "1", "token": "t"}).encode()
    assert (await discord.raw(body)).json() == {"type": 1}


async def test_a_bug_is_a_private_apology_not_a_500(
    discord: Discord, sessions_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(sessions, "clock_in", broken)
    body = await discord.run("session in", subject="gym")
    assert is_ephemeral(body)
    assert "Something went wrong" in _content(body)
    assert await sessions_of(ALICE) == []


async def test_buttons_survive_a_rerender_round_trip(discord: Discord) -> None:
    card = await discord.run("session in", subject="gym")
    for custom_id in button_ids(card):
        assert custom_id.split(":", 1)[1] == str(card_session_id(card))


# Text the database cannot hold ----------------------------------------------------------


def _nul_in(where: str) -> dict[str, Any]:
    """A signed interaction with a NUL in one of the places a person or Discord fills in."""
    if where == "custom id":
        return click("pause:1\x00")
    if where == "modal value":
        return submit("edit_purpose:1", {"purpose": "draft\x00"})
    body = command("session in", subject="thesis")
    if where == "interaction id":
        body["id"] += "\x00"
    elif where == "user id":
        body["member"]["user"]["id"] += "\x00"
    elif where == "username":
        body["member"]["user"]["username"] = "ada\x00"
    elif where == "option":
        body["data"]["options"][0]["options"][0]["value"] = "the\x00sis"
    return body


@pytest.mark.parametrize(
    "where",
    ["interaction id", "user id", "username", "option", "custom id", "modal value"],
)
async def test_a_nul_anywhere_is_a_private_cant_read_reply_and_one_log_line(
    discord: Discord,
    sessions_of: Any,
    committed: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    body = await discord.send(_nul_in(where))

    assert body["type"] == 4
    assert is_ephemeral(body)
    assert "can't read that" in _content(body)
    problems = [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert [(r.levelname, r.exc_info) for r in problems] == [("WARNING", None)]
    assert await sessions_of(ALICE) == []
    async with committed() as db:
        assert await db.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


async def test_a_nul_in_typed_autocomplete_text_suggests_nothing(
    discord: Discord, caplog: pytest.LogCaptureFixture
) -> None:
    body = await discord.send(command("session in", focused="subject", subject="th\x00"))

    assert body == {"type": 8, "data": {"choices": []}}
    assert [r.levelname for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == [
        "WARNING"
    ]
