"""The slash commands, defined once: `timetrack discord register` PUTs exactly this list.

Installable on guilds and on users; usable in guilds, in the bot's DMs and in private
channels, so a user install works anywhere the person is.
"""

from __future__ import annotations

from typing import Any

from app.limits import (
    DURATION_MAX_LENGTH,
    GOAL_MAX_LENGTH,
    MAX_WEEKLY_HOURS,
    REMIND_AFTER_MAX_MINUTES,
    SUBJECT_MAX_LENGTH,
    TEAM_NAME_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
)
from app.reports import Period

SUB_COMMAND = 1
STRING = 3
CHANNEL = 7
NUMBER = 10
GUILD_TEXT, GUILD_ANNOUNCEMENT = 0, 5

GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2


def _subject(description: str) -> dict[str, Any]:
    return {
        "type": STRING,
        "name": "subject",
        "description": description,
        "required": True,
        "autocomplete": True,
        "min_length": 1,
        "max_length": SUBJECT_MAX_LENGTH,
    }


def _goal_option(description: str) -> dict[str, Any]:
    # Discord users know the goal as the session's "purpose".
    return {
        "type": STRING,
        "name": "purpose",
        "description": description,
        "required": False,
        "max_length": GOAL_MAX_LENGTH,
    }


def _sub(name: str, description: str, *options: dict[str, Any]) -> dict[str, Any]:
    sub: dict[str, Any] = {"type": SUB_COMMAND, "name": name, "description": description}
    if options:
        sub["options"] = list(options)
    return sub


def _command(
    name: str, description: str, *options: dict[str, Any], in_servers_only: bool = False
) -> dict[str, Any]:
    command: dict[str, Any] = {
        "name": name,
        "type": 1,
        "description": description,
        "integration_types": [GUILD_INSTALL, USER_INSTALL],
        "contexts": [GUILD, BOT_DM, PRIVATE_CHANNEL],
    }
    if in_servers_only:
        # A server's team needs the bot in the server, to post its weekly summary.
        command["integration_types"] = [GUILD_INSTALL]
        command["contexts"] = [GUILD]
    if options:
        command["options"] = list(options)
    return command


COMMANDS: list[dict[str, Any]] = [
    _command(
        "session",
        "Track a focus session",
        _sub(
            "in",
            "Clock in: start tracking a subject",
            _subject("What you are working on"),
            _goal_option("What you want to get done (optional)"),
        ),
        _sub(
            "out", "Clock out of your current session", _goal_option("What you got done (optional)")
        ),
        _sub(
            "add",
            "Add time you worked but didn't track",
            _subject("What you worked on"),
            {
                "type": STRING,
                "name": "duration",
                "description": "How long: 1h 20m, 80m, 1:20 or 4800s",
                "required": True,
                "min_length": 1,
                "max_length": DURATION_MAX_LENGTH,
            },
            {
                "type": STRING,
                "name": "day",
                "description": "YYYY-MM-DD, today or yesterday (default today)",
                "required": False,
                "max_length": 10,
            },
            {
                "type": STRING,
                "name": "start",
                "description": "When you started, HH:MM (default: it ended now, or at 18:00)",
                "required": False,
                "max_length": 5,
            },
            {
                "type": STRING,
                "name": "goal",
                "description": "What it was for (optional)",
                "required": False,
                "max_length": GOAL_MAX_LENGTH,
            },
        ),
        _sub("pause", "Pause your current session"),
        _sub("resume", "Resume your paused session"),
        _sub("status", "Show your current session"),
    ),
    _command(
        "alloc",
        "Plan your week",
        _sub(
            "set",
            "Plan hours for a subject this week (0 removes it)",
            _subject("The subject to plan"),
            {
                "type": NUMBER,
                "name": "hours",
                "description": f"Hours this week, 0 to {MAX_WEEKLY_HOURS}",
                "required": True,
                "min_value": 0,
                "max_value": MAX_WEEKLY_HOURS,
            },
        ),
        _sub("show", "Show this week's plan against what you tracked"),
    ),
    _command(
        "settings",
        "Your timetrack settings",
        _sub(
            "timezone",
            "Set your timezone (weeks start on Monday there)",
            {
                "type": STRING,
                "name": "zone",
                "description": "An IANA timezone such as Australia/Sydney",
                "required": True,
                "autocomplete": True,
                "max_length": TIMEZONE_MAX_LENGTH,
            },
        ),
        _sub(
            "reminders",
            "Get a DM when a session has run this long",
            {
                "type": STRING,
                "name": "minutes",
                "description": (
                    f"Minutes, 1 to {REMIND_AFTER_MAX_MINUTES} (or 1h 30m), or off; default 120"
                ),
                "required": True,
                "min_length": 1,
                "max_length": DURATION_MAX_LENGTH,
            },
        ),
        _sub(
            "summary",
            "Last week's plan against what you tracked, by DM on Monday morning",
            {
                "type": STRING,
                "name": "weekly",
                "description": "Send the weekly summary?",
                "required": True,
                "choices": [{"name": "on", "value": "on"}, {"name": "off", "value": "off"}],
            },
        ),
    ),
    _command(
        "report",
        "Where your time went, per subject",
        {
            "type": STRING,
            "name": "period",
            "description": "Which period (default this week)",
            "required": False,
            "choices": [{"name": str(period), "value": str(period)} for period in Period],
        },
    ),
    _command("web", "Get a one-time sign-in link to your timetrack page"),
    _command(
        "github",
        "Link your GitHub account so assigned issues start timers",
        _sub("link", "Link your GitHub account"),
        _sub("unlink", "Unlink your GitHub account"),
    ),
    _command(
        "team",
        "This server's team: members who share their tracked time",
        _sub(
            "create",
            "Create this server's team (needs Manage Server)",
            {
                "type": STRING,
                "name": "name",
                "description": "The team's name",
                "required": True,
                "min_length": 1,
                "max_length": TEAM_NAME_MAX_LENGTH,
            },
        ),
        _sub("join", "Join this server's team and share your tracked time with it"),
        _sub("leave", "Leave this server's team; it no longer sees any of your time"),
        _sub(
            "share",
            "Choose which subjects the team sees (issues of its GitHub owner always count)",
            {
                "type": STRING,
                "name": "subjects",
                "description": "all, or subject names separated by commas",
                "required": True,
                "min_length": 1,
                "max_length": 1000,
            },
        ),
        _sub(
            "week",
            "Post the team's week in this channel: members ranked by tracked time",
            {
                "type": STRING,
                "name": "week",
                "description": "Any day of the week, YYYY-MM-DD (default this week)",
                "required": False,
                "max_length": 10,
            },
        ),
        _sub(
            "channel",
            "Post the team's week here every Monday morning (team admins)",
            {
                "type": CHANNEL,
                "name": "channel",
                "description": "Where the weekly summary goes",
                "required": True,
                "channel_types": [GUILD_TEXT, GUILD_ANNOUNCEMENT],
            },
        ),
        in_servers_only=True,
    ),
]
