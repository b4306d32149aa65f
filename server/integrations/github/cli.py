"""`timetrack github ...`: account links made by an operator who has verified the login."""

from __future__ import annotations

from typing import Annotated

import typer

from server.console import run_in_transaction

github_cli = typer.Typer(help="GitHub account links.", no_args_is_help=True)


@github_cli.command("link")
def github_link(
    user: Annotated[str, typer.Option("--user", help="The Discord user id.")],
    login: Annotated[str, typer.Option("--login", help="The GitHub login.")],
) -> None:
    """Link a GitHub login to a user, as an operator who has verified it."""
    from app import accounts

    run_in_transaction(lambda db: accounts.link_github(db, user, login))
    typer.echo(f"Linked GitHub {login} to user {user}.")


@github_cli.command("unlink")
def github_unlink(
    user: Annotated[str, typer.Option("--user", help="The Discord user id.")],
) -> None:
    """Remove a user's GitHub link."""
    from app import accounts

    run_in_transaction(lambda db: accounts.unlink_github(db, user))
    typer.echo(f"Unlinked GitHub from user {user}.")
