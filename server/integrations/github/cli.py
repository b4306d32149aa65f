"""`timetrack github ...`: account links made by an operator who has verified the login, and
webhook secrets of one repository or organisation."""

from __future__ import annotations

from typing import Annotated

import typer

from server.console import fail, run_in_transaction

github_cli = typer.Typer(help="GitHub account links and webhook secrets.", no_args_is_help=True)
secret_cli = typer.Typer(
    help="Webhook secrets that sign for one repository or organisation only.",
    no_args_is_help=True,
)
github_cli.add_typer(secret_cli, name="secret")


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


@secret_cli.command("add")
def secret_add(
    repo: Annotated[
        str | None, typer.Option("--repo", help="The repository, as owner/name.")
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="The organisation (owner).")] = None,
) -> None:
    """Create a webhook secret for one repository or organisation; printed once, last."""
    from app import webhook_secrets

    if (repo is None) == (org is None):
        fail("Give --repo owner/name or --org owner.", 2)
    secret, plain = run_in_transaction(lambda db: webhook_secrets.add(db, repo=repo, org=org))
    scope = webhook_secrets.scope_of(secret)
    typer.echo(
        f"Created webhook secret {secret.id} for {scope}. "
        "Put it in the webhook's Secret field; it will not be shown again:"
    )
    typer.echo(plain)


@secret_cli.command("list")
def secret_list() -> None:
    """List the webhook secrets (never the secrets themselves)."""
    from app import webhook_secrets

    found = run_in_transaction(webhook_secrets.listing)
    for secret in found:
        scope = webhook_secrets.scope_of(secret)
        typer.echo(f"{secret.id}\t{scope}\tcreated {secret.created_at:%Y-%m-%d}")
    if not found:
        typer.echo("No webhook secrets; only GITHUB_WEBHOOK_SECRET signs deliveries.")


@secret_cli.command("remove")
def secret_remove(secret_id: Annotated[int, typer.Argument(help="The secret's id.")]) -> None:
    """Remove a webhook secret: deliveries signed with it are refused from now on."""
    from app import webhook_secrets

    run_in_transaction(lambda db: webhook_secrets.remove(db, secret_id))
    typer.echo(f"Removed webhook secret {secret_id}.")
