"""`timetrack discord commands|register`, and the outbound Discord client."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from typer.testing import CliRunner

from server.cli import cli
from server.integrations.discord.client import DiscordClient, DiscordError
from server.integrations.discord.commands import COMMANDS
from tests.discord.support import API_BASE, APP_ID, GUILD_ID, assert_commands

TOKEN = "bot-token-for-tests"


@pytest.fixture
def bot_env(settings_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    settings_env.setenv("DISCORD_APPLICATION_ID", APP_ID)
    settings_env.setenv("DISCORD_BOT_TOKEN", TOKEN)
    settings_env.setenv("DISCORD_API_BASE", API_BASE)
    return settings_env


def test_definitions_match_the_contract() -> None:
    assert_commands(COMMANDS)
    shape = {
        command["name"]: {
            option["name"]: [leaf["name"] for leaf in option.get("options", [])]
            for option in command.get("options", [])
        }
        for command in COMMANDS
    }
    assert shape == {
        "session": {
            "in": ["subject", "purpose"],
            "out": ["purpose"],
            "add": ["subject", "duration", "day", "start", "goal"],
            "pause": [],
            "resume": [],
            "status": [],
        },
        "alloc": {"set": ["subject", "hours"], "show": []},
        "settings": {"timezone": ["zone"], "reminders": ["minutes"], "summary": ["weekly"]},
        "report": {"period": []},
        "web": {},
        "github": {"link": [], "unlink": []},
        "team": {
            "create": ["name"],
            "join": [],
            "leave": [],
            "share": ["subjects"],
            "week": ["week"],
            "channel": ["channel"],
        },
    }
    session_in = COMMANDS[0]["options"][0]["options"]
    assert session_in[0]["required"] is True
    assert session_in[0]["autocomplete"] is True
    hours = COMMANDS[1]["options"][0]["options"][1]
    assert hours == hours | {"type": 10, "min_value": 0, "max_value": 168, "required": True}
    zone = COMMANDS[2]["options"][0]["options"][0]
    assert zone["autocomplete"] is True
    minutes = COMMANDS[2]["options"][1]["options"][0]
    assert minutes == minutes | {"type": 3, "required": True}  # a number, or "off"
    weekly = COMMANDS[2]["options"][2]["options"][0]
    assert [choice["value"] for choice in weekly["choices"]] == ["on", "off"]
    channel = COMMANDS[6]["options"][5]["options"][0]
    assert channel == channel | {"type": 7, "required": True}
    for command in COMMANDS:
        # A team is a server's: its command is installed in servers and used there only.
        servers_only = command["name"] == "team"
        assert command["integration_types"] == ([0] if servers_only else [0, 1])
        assert command["contexts"] == ([0] if servers_only else [0, 1, 2])


def test_commands_prints_the_registration_body() -> None:
    result = CliRunner().invoke(cli, ["discord", "commands"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == COMMANDS


@pytest.mark.parametrize("guild", [None, GUILD_ID])
def test_register_puts_the_commands(bot_env: pytest.MonkeyPatch, guild: str | None) -> None:
    path = f"/applications/{APP_ID}" + (f"/guilds/{guild}" if guild else "") + "/commands"
    registered = [{"id": str(n), **command} for n, command in enumerate(COMMANDS)]
    with respx.mock(assert_all_called=True) as mock:
        route = mock.put(API_BASE + path).respond(200, json=registered)
        args = ["discord", "register"] + (["--guild", guild] if guild else [])
        result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert "Registered 7 commands" in result.stdout
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bot {TOKEN}"
    assert request.headers["User-Agent"].startswith("DiscordBot (http")
    assert json.loads(request.content) == COMMANDS


@pytest.mark.parametrize("missing", ["DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN"])
def test_register_without_settings_fails_in_one_line(
    bot_env: pytest.MonkeyPatch, missing: str
) -> None:
    bot_env.delenv(missing)
    with respx.mock(assert_all_called=False) as mock:
        result = CliRunner().invoke(cli, ["discord", "register"])
    assert result.exit_code == 1
    assert not mock.calls
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert missing in lines[0]
    assert "Traceback" not in result.output


def test_register_refused_by_discord_fails_in_one_line(bot_env: pytest.MonkeyPatch) -> None:
    with respx.mock() as mock:
        mock.put(f"{API_BASE}/applications/{APP_ID}/commands").respond(
            401, json={"message": "401: Unauthorized", "code": 0}
        )
        result = CliRunner().invoke(cli, ["discord", "register"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "HTTP 401: 401: Unauthorized" in line


def test_register_when_discord_is_unreachable(bot_env: pytest.MonkeyPatch) -> None:
    with respx.mock() as mock:
        mock.put(f"{API_BASE}/applications/{APP_ID}/commands").mock(
            side_effect=httpx.ConnectError("no route")
        )
        result = CliRunner().invoke(cli, ["discord", "register"])
    assert result.exit_code == 1
    assert "could not reach Discord" in result.stderr


async def test_send_dm_opens_a_channel_then_posts(bot_env: pytest.MonkeyPatch) -> None:
    message = {"content": "hi", "flags": 64, "allowed_mentions": {"parse": []}}
    with respx.mock(assert_all_called=True) as mock:
        opened = mock.post(f"{API_BASE}/users/@me/channels").respond(200, json={"id": "42"})
        sent = mock.post(f"{API_BASE}/channels/42/messages").respond(200, json={"id": "1"})
        assert await DiscordClient.from_settings().send_dm("1400000000000000004", message)
    assert json.loads(opened.calls.last.request.content) == {"recipient_id": "1400000000000000004"}
    request = sent.calls.last.request
    assert request.headers["Authorization"] == f"Bot {TOKEN}"
    assert json.loads(request.content) == {"content": "hi", "allowed_mentions": {"parse": []}}


OPENED = httpx.Response(200, json={"id": "42"})
SENT = httpx.Response(200, json={"id": "1"})


@pytest.mark.parametrize(
    ("opening", "sending"),
    [
        (OPENED, httpx.Response(403, json={"message": "Cannot send messages", "code": 50007})),
        (OPENED, httpx.Response(429, json={"message": "rate limited", "retry_after": 1})),
        (OPENED, httpx.ConnectError("down")),
        (httpx.Response(200, text="not json"), SENT),
        (httpx.Response(200, json={"no": "id"}), SENT),
        (httpx.Response(401, json={"message": "401: Unauthorized"}), SENT),
        (httpx.ReadTimeout("slow"), SENT),
    ],
    ids=["forbidden", "rate-limited", "unreachable", "garbage", "no-id", "bad-token", "timeout"],
)
async def test_send_dm_never_raises(
    bot_env: pytest.MonkeyPatch,
    opening: httpx.Response | Exception,
    sending: httpx.Response | Exception,
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        for route, outcome in (
            (mock.post(f"{API_BASE}/users/@me/channels"), opening),
            (mock.post(f"{API_BASE}/channels/42/messages"), sending),
        ):
            if isinstance(outcome, Exception):
                route.mock(side_effect=outcome)
            else:
                route.mock(return_value=outcome)
        assert await DiscordClient.from_settings().send_dm("1", {"content": "x"}) is False


async def test_send_dm_without_a_token_sends_nothing(bot_env: pytest.MonkeyPatch) -> None:
    bot_env.delenv("DISCORD_BOT_TOKEN")
    with respx.mock(assert_all_called=False) as mock:
        assert await DiscordClient.from_settings().send_dm("1", {"content": "x"}) is False
    assert not mock.calls


async def test_edit_original_patches_the_webhook_message(bot_env: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.patch(f"{API_BASE}/webhooks/{APP_ID}/tok/messages/@original").respond(200)
        await DiscordClient.from_settings().edit_original("tok", {"content": "x", "flags": 64})
    request = route.calls.last.request
    assert json.loads(request.content) == {"content": "x"}
    assert "Authorization" not in request.headers  # the interaction token is the credential
    assert request.headers["User-Agent"].startswith("DiscordBot (")


async def test_edit_original_without_an_application_id_is_skipped(
    bot_env: pytest.MonkeyPatch,
) -> None:
    bot_env.delenv("DISCORD_APPLICATION_ID")
    with respx.mock(assert_all_called=False) as mock:
        await DiscordClient.from_settings().edit_original("tok", {"content": "x"})
    assert not mock.calls


async def test_register_commands_raises_a_discord_error(bot_env: pytest.MonkeyPatch) -> None:
    with respx.mock() as mock:
        mock.put(f"{API_BASE}/applications/{APP_ID}/commands").respond(
            400, json={"message": "Invalid Form Body"}
        )
        with pytest.raises(DiscordError, match="Invalid Form Body"):
            await DiscordClient.from_settings().register_commands(COMMANDS)
