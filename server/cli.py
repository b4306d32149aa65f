"""The `timetrack` command line (also `python -m app`): serving, the database, tokens,
sign-in links, scheduled work (the tick, the stale sweep) and health. Discord's and
GitHub's own commands live in their integrations (`timetrack discord ...`,
`timetrack github ...`).

A user mistake prints one line on stderr and exits non-zero; tracebacks are for bugs.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ConfigError, get_settings
from server.console import fail, run_in_transaction
from server.integrations.discord.cli import discord_cli
from server.integrations.github.cli import github_cli

# Connections per worker, at least, when `serve` shares the default pool among its workers.
MIN_POOL_SIZE = 4

cli = typer.Typer(
    name="timetrack",
    help="Personal time tracking from Discord, GitHub, a REST API and a web page.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
token_cli = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
team_cli = typer.Typer(help="Teams.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(team_cli, name="team")
cli.add_typer(discord_cli, name="discord")
cli.add_typer(github_cli, name="github")


def _database_url() -> str:
    from app.db import resolve_database_url

    return resolve_database_url()


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="Skip migrations.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes serving the port (default: the number of CPUs)."),
    ] = None,
) -> None:
    """Migrate the database, then serve the app with uvicorn."""
    import os

    import uvicorn

    from app import migrate
    from app.db import libpq_url

    get_settings().check_production()
    url = _database_url()
    if not no_migrate:
        migrate.upgrade(url)
    # The database is started (when embedded) and migrated once, here; every worker then
    # connects to it directly instead of each looking for the embedded server itself.
    os.environ["DATABASE_URL"] = libpq_url(url)
    count = workers or os.cpu_count() or 1
    # The default number of connections is the server's, shared by its processes, so more
    # workers do not multiply what PostgreSQL must accept.
    os.environ.setdefault(
        "DATABASE_POOL_SIZE", str(max(MIN_POOL_SIZE, get_settings().database_pool_size // count))
    )
    plural = "" if count == 1 else "es"
    typer.echo(f"timetrack: serving on http://{host}:{port} ({count} process{plural})", err=True)
    uvicorn.run(
        "server.router:app",
        host=host,
        port=port,
        workers=count,
        log_level="info",
        access_log=False,
    )


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from app import migrate

    migrate.upgrade(_database_url(), revision)


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base or -1.")]) -> None:
    """Revert migrations down to REVISION."""
    from app import migrate

    migrate.downgrade(_database_url(), revision)


@db_cli.command("url")
def db_url() -> None:
    """Print the database URL in use (starting the embedded server if needed)."""
    from app.db import libpq_url

    typer.echo(libpq_url(_database_url()))


@cli.command()
def health() -> None:
    """Print the /api/health JSON, computed locally; exit 1 when the database is down."""
    from app import health as health_report
    from app.db import database, is_database_outage

    async def main() -> tuple[dict[str, Any], int]:
        try:
            async with database.sessions() as db:
                return await health_report.report(db), 0
        except Exception as error:
            if not is_database_outage(error):
                raise
            return health_report.unavailable(), 1
        finally:
            await database.dispose()

    body, code = asyncio.run(main())
    typer.echo(json.dumps(body, indent=2))
    raise typer.Exit(code)


@cli.command("stop-stale")
def stop_stale(
    hours: Annotated[
        float | None,
        typer.Option(help="Stale after this many hours, e.g. 1.5 (default TIMETRACK_STALE_HOURS)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the sessions; change nothing.")
    ] = False,
) -> None:
    """End sessions active longer than H hours (unconfirmed, for review); DM their owners."""
    from app import stale
    from app.clock import clock
    from app.db import database, transaction
    from app.durations import format_duration
    from app.models import Session
    from app.timing import session_times
    from server import notify, outbound
    from server.cron import sweep

    if hours is not None and not (math.isfinite(hours) and hours > 0):
        fail("--hours must be a positive number of hours.", 2)
    threshold = stale.stale_hours(hours)

    async def main() -> tuple[list[Session], int, int]:
        try:
            if dry_run:
                async with database.sessions() as db:
                    return list(await stale.find(db, hours=threshold)), 0, 0
            async with transaction() as db:
                swept = await sweep.sweep(db, hours=threshold)
                sent = notify.outbox(db)
            # The DMs went out after the commit, as the unit of work always sends them.
            return swept.stopped, swept.pruned_events, sent.delivered
        finally:
            await database.dispose()
            await outbound.aclose()

    found, pruned, delivered = asyncio.run(main())
    now = clock.now()
    for session in found:
        open_for = session_times(session, now).measured
        typer.echo(
            f"session {session.id}: user {session.user_id}, {session.subject.name}, "
            f"started {session.started_at:%Y-%m-%dT%H:%M:%SZ}, open {format_duration(open_for)}"
        )
    plural = "" if len(found) == 1 else "s"
    if dry_run:
        typer.echo(f"Would stop {len(found)} stale session{plural} (dry run: nothing changed).")
        return
    typer.echo(f"Stopped {len(found)} stale session{plural} (open more than {threshold:g} h).")
    if pruned or delivered:
        typer.echo(f"timetrack: {delivered} DMs sent; {pruned} old event records pruned.", err=True)


@cli.command("tick")
def run_tick() -> None:
    """Run scheduled work once: reminders, weekly summaries, retries and the stale sweep."""
    from app.db import database
    from server.cron.tick import tick

    async def main() -> dict[str, int]:
        try:
            return (await tick()).counts()
        finally:
            await database.dispose()

    typer.echo(json.dumps(asyncio.run(main())))


@token_cli.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="The Discord user id.")],
    name: Annotated[str | None, typer.Option("--name", help="A label for the token.")] = None,
) -> None:
    """Create a personal API token; it is printed once, as the last line."""
    from app import accounts

    async def work(db: AsyncSession) -> tuple[int, str]:
        token, plain = await accounts.create_api_token(db, user, name)
        return token.id, plain

    token_id, plain = run_in_transaction(work)
    typer.echo(f"Created token {token_id} for user {user}. It will not be shown again:")
    typer.echo(plain)


@token_cli.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a personal API token."""
    from app import accounts

    run_in_transaction(lambda db: accounts.revoke_api_token(db, token_id))
    typer.echo(f"Revoked token {token_id}.")


@team_cli.command("post")
def team_post(team: Annotated[int, typer.Option("--team", help="The team's id.")]) -> None:
    """Post the team's last week to its Discord channel now (the tick posts it on Mondays)."""
    from app import teams
    from server import notify

    if not notify.enabled():
        fail("DISCORD_BOT_TOKEN is unset: nothing can be posted.")
    found, summary = run_in_transaction(lambda db: teams.last_week(db, team))
    # A manual post is not recorded: the scheduled one still goes out on Monday.
    if found.discord_channel_id is None:
        fail(f"Team {team} has no channel yet: an admin picks one with /team channel.")
    if not asyncio.run(notify.post_team_week(teams.TeamWeek(found, summary))):
        fail("Discord refused the post; see the log.")
    typer.echo(f"Posted {found.name}'s week of {summary.first.isoformat()}.")


@cli.command("logout")
def logout(user: Annotated[str, typer.Option("--user", help="The Discord user id.")]) -> None:
    """Sign a user out of the page in every browser (API tokens are not affected)."""
    from app import accounts

    ended = run_in_transaction(lambda db: accounts.sign_out_everywhere(db, user))
    typer.echo(f"Signed user {user} out of {ended} browser{'' if ended == 1 else 's'}.")


@cli.command("login-link")
def login_link(user: Annotated[str, typer.Option("--user", help="The Discord user id.")]) -> None:
    """Print a one-time sign-in URL for the web page (valid ten minutes)."""
    from app import accounts

    typer.echo(run_in_transaction(lambda db: accounts.create_login_link(db, user)))


def main() -> None:
    from alembic.util.exc import CommandError

    from app.db import is_database_outage
    from app.errors import TimetrackError

    try:
        cli()
    except ConfigError as error:
        fail(str(error), 2)
    except TimetrackError as error:
        fail(error.detail)
    except CommandError as error:
        fail(str(error).splitlines()[0])
    except Exception as error:
        if is_database_outage(error):
            fail(f"the database is unavailable ({type(error).__name__}).")
        raise


if __name__ == "__main__":
    main()
