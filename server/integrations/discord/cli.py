"""`timetrack discord ...`: the application's slash commands, printed or registered."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from server.console import fail

discord_cli = typer.Typer(help="The Discord application.", no_args_is_help=True)


@discord_cli.command("commands")
def discord_commands() -> None:
    """Print the slash-command definitions: the JSON array that registration PUTs."""
    from server.integrations.discord.commands import COMMANDS

    typer.echo(json.dumps(COMMANDS, indent=2, ensure_ascii=False))


@discord_cli.command("register")
def discord_register(
    guild: Annotated[
        str | None, typer.Option("--guild", help="Register in one guild (instant) instead.")
    ] = None,
) -> None:
    """Bulk-overwrite the application's global (or one guild's) slash commands."""
    from server import outbound
    from server.integrations.discord.client import DiscordClient, DiscordError
    from server.integrations.discord.commands import COMMANDS

    async def register() -> list[dict[str, Any]]:
        try:
            return await DiscordClient.from_settings().register_commands(COMMANDS, guild)
        finally:
            await outbound.aclose()

    try:
        registered = asyncio.run(register())
    except DiscordError as error:
        fail(str(error))
    where = f"guild {guild}" if guild else "globally"
    names = ", ".join(f"/{command.get('name')}" for command in registered) or "none"
    typer.echo(f"Registered {len(registered)} commands {where}: {names}.")
