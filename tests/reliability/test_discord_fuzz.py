"""Fuzzing POST /api/discord with validly signed bodies: nothing is ever a server failure.

hypothesis generates arbitrary JSON (and raw bytes), and interaction-like bodies with
random types, data, options, custom ids (`pause:abc`, `pause:99999999999999999999`, `:`,
unicode, real session ids of several users) and modal fields. Each body is signed with the
test key and sent through the real app with real commits. Every answer must be below 500;
a 200 must be a callback Discord's spec accepts, and never the apology for an internal
failure (the endpoint turns crashes into that apology, so a crash would otherwise hide
behind a 200).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import session as sessions
from app.models import SessionSource
from server.integrations.discord.router import SOMETHING_WENT_WRONG
from tests.discord.support import ALICE, BOB, Signer, assert_callback

EXAMPLES = 150
ACTIONS = ["pause", "resume", "out", "confirm", "reopen", "adjust_time", "edit_purpose", "switch"]
COMMAND_WORDS = [
    *("session", "alloc", "settings", "web", "github", "in", "out", "pause", "resume"),
    *("status", "set", "show", "timezone", "link", "unlink", "subject", "purpose"),
    *("hours", "zone"),
]
WEIRD_IDS = [
    "pause:abc",
    "pause:99999999999999999999",
    ":",
    "pause:",
    ":1",
    "out:0",
    "confirm:-5",
    "resume:1.5",
    "edit_purpose:١٢",
    "adjust_time:" + "9" * 18,
    "reopen:" + "9" * 19,
    "pause:1:2",
    "switch:",
    "switch:octo/repo#1",
    "ｐａｕｓｅ:1",
    "pause:\x00",
]

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "0", "-1", "1e309", "\x00", "🕒", "a" * 300])
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
snowflakes = st.one_of(
    st.integers(0, 2**64).map(str), st.text(max_size=24), st.integers(), st.just("")
)


def _custom_ids(session_ids: list[int]) -> st.SearchStrategy[str]:
    real = [f"{action}:{sid}" for action in ACTIONS for sid in session_ids]
    return st.one_of(
        st.sampled_from(WEIRD_IDS),
        st.sampled_from(real),
        st.builds(lambda a, r: f"{a}:{r}", st.sampled_from(ACTIONS), st.text(max_size=24)),
        st.text(max_size=110),
    )


names = st.sampled_from(COMMAND_WORDS) | st.text(max_size=20)
option_values = json_leaves | json_values
leaf_options = st.fixed_dictionaries(
    {"name": names, "type": st.integers(-1, 12), "value": option_values},
    optional={"focused": st.booleans() | json_leaves},
)
options = st.recursive(
    leaf_options,
    lambda child: st.fixed_dictionaries(
        {"name": names, "type": st.sampled_from([1, 2]) | st.integers(-1, 12)},
        optional={"options": st.lists(child, max_size=3) | json_values},
    ),
    max_leaves=6,
)
modal_fields = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from([4, 18, 1]) | st.integers()},
        optional={
            "custom_id": st.sampled_from(["duration", "purpose"]) | st.text(max_size=20),
            "value": st.sampled_from(["1h", "25m", "0", "-3m", "99999h", "1h 61m"])
            | st.text(max_size=120)
            | json_leaves,
        },
    ),
    lambda child: st.fixed_dictionaries(
        {"type": st.sampled_from([1, 18])},
        optional={"component": child, "components": st.lists(child, max_size=3)},
    ),
    max_leaves=5,
)


def _users() -> st.SearchStrategy[Any]:
    user_ids = st.sampled_from([ALICE, BOB, "1"]) | st.text(max_size=70) | st.integers()
    user = st.fixed_dictionaries(
        {"id": user_ids},
        optional={"username": st.text(max_size=40) | st.none(), "global_name": json_leaves},
    )
    return user | json_values


def interactions(session_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    custom_ids = _custom_ids(session_ids)
    data = st.one_of(
        st.fixed_dictionaries(
            {"name": names},
            optional={
                "options": st.lists(options, max_size=3) | json_values,
                "type": st.integers(-1, 4),
                "id": snowflakes,
            },
        ),
        st.fixed_dictionaries({"custom_id": custom_ids}, optional={"component_type": json_leaves}),
        st.fixed_dictionaries(
            {"custom_id": custom_ids},
            optional={"components": st.lists(modal_fields, max_size=3) | json_values},
        ),
        json_values,
    )
    users = _users()
    return st.fixed_dictionaries(
        {
            "id": snowflakes,
            "type": st.sampled_from([1, 2, 3, 4, 5]) | st.integers(-3, 40) | json_leaves,
            "token": st.text(min_size=1, max_size=60) | json_leaves,
        },
        optional={
            "application_id": snowflakes,
            "data": data,
            "member": st.fixed_dictionaries({"user": users}) | json_values,
            "user": users,
            "guild_id": snowflakes | st.none(),
            "channel_id": snowflakes,
            "message": st.fixed_dictionaries({"id": snowflakes}) | json_values,
            "locale": st.text(max_size=8),
            "version": st.integers(),
        },
    )


def _check(response: Response, body: bytes) -> None:
    assert response.status_code < 500, (body[:500], response.text)
    if response.status_code != 200:
        assert response.json()["error"], response.text
        return
    answer = response.json()
    assert_callback(answer)
    content = str((answer.get("data") or {}).get("content", ""))
    assert SOMETHING_WENT_WRONG not in content, (body[:500], answer)


@pytest_asyncio.fixture(loop_scope="session")
async def session_ids(committed: async_sessionmaker[AsyncSession]) -> list[int]:
    """Real sessions of two users, running and ended, so generated clicks hit something."""
    found = []
    async with committed() as db, db.begin():
        for user_id in (ALICE, BOB):
            ended = await sessions.clock_in(db, user_id, "fuzz", source=SessionSource.DISCORD)
            await sessions.clock_out(db, user_id, ended.id)
            running = await sessions.clock_in(db, user_id, "fuzz 2", source=SessionSource.DISCORD)
            found += [ended.id, running.id]
    return found


class Sender:
    def __init__(self, http: AsyncClient, signer: Signer, loop: asyncio.AbstractEventLoop) -> None:
        self.http, self.signer, self.loop = http, signer, loop

    def post(self, body: bytes) -> Response:
        """Sign and send from hypothesis' worker thread, on the test's event loop."""
        request = self.http.post("/api/discord", content=body, headers=self.signer.headers(body))
        return asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.usefixtures("discord_env")
async def test_arbitrary_json_and_bytes_never_fail(
    http: AsyncClient, signer: Signer, session_ids: list[int]
) -> None:
    sender = Sender(http, signer, asyncio.get_running_loop())

    @FUZZ_SETTINGS
    @given(
        body=json_values.map(lambda v: json.dumps(v).encode())
        | st.binary(max_size=200)
        | st.text(max_size=200).map(str.encode)
    )
    def check(body: bytes) -> None:
        _check(sender.post(body), body)

    await asyncio.to_thread(check)


@pytest.mark.usefixtures("discord_env")
async def test_interaction_like_bodies_never_fail(
    http: AsyncClient, signer: Signer, session_ids: list[int]
) -> None:
    sender = Sender(http, signer, asyncio.get_running_loop())

    @FUZZ_SETTINGS
    @given(payload=interactions(session_ids))
    def check(payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        _check(sender.post(body), body)

    await asyncio.to_thread(check)


@pytest.mark.usefixtures("discord_env")
async def test_well_formed_interactions_with_hostile_values_never_fail(
    http: AsyncClient, signer: Signer, session_ids: list[int]
) -> None:
    """Valid commands, clicks and modal submissions, with hostile option values and ids."""
    from tests.discord.support import click, command, submit

    sender = Sender(http, signer, asyncio.get_running_loop())
    texts = st.text(max_size=300) | st.sampled_from(["\x00", "a" * 5000, "<@123>", "@everyone"])
    commands = st.one_of(
        st.builds(lambda s, p: command("session in", subject=s, purpose=p), texts, texts),
        st.builds(lambda p: command("session out", purpose=p), texts),
        st.sampled_from(["session pause", "session resume", "session status"]).map(command),
        st.builds(
            lambda s, h: command("alloc set", subject=s, hours=h),
            texts,
            st.floats() | st.integers() | texts,
        ),
        st.builds(lambda z: command("settings timezone", zone=z), texts),
        st.builds(lambda s: command("session in", focused="subject", subject=s), texts),
        st.builds(lambda z: command("settings timezone", focused="zone", zone=z), texts),
    )
    components = st.builds(click, _custom_ids(session_ids))
    modals = st.builds(
        lambda cid, v, key: submit(cid, {key: v}),
        _custom_ids(session_ids),
        texts | st.sampled_from(["1h", "0m", "-5m", "999999h", "1h 30m", "90"]),
        st.sampled_from(["duration", "purpose", "other"]),
    )

    @FUZZ_SETTINGS
    @given(payload=commands | components | modals)
    def check(payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        _check(sender.post(body), body)

    await asyncio.to_thread(check)
