"""The skeleton: migrations, health, settings and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app import migrate
from app.config import ConfigError, get_settings, load_settings
from app.db import database, ensure_database, libpq_url, resolve_database_url, sqlalchemy_url
from app.weeks import summary_time, week_start_for
from server.cli import cli
from server.router import app

REFUSING_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """An empty database next to the test one, dropped afterwards."""
    name = make_url(database_url).database or ""
    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    url = ensure_database(server, f"{name}_scratch")
    yield url
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(f"{name}_scratch")
            )
        )


def _tables(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def test_migrations_upgrade_match_the_models_and_downgrade(scratch_database: str) -> None:
    url = sqlalchemy_url(scratch_database)
    assert _tables(url) == set()

    migrate.upgrade(url)
    assert _tables(url) == {
        "alembic_version",
        "users",
        "subjects",
        "weekly_allocations",
        "sessions",
        "api_tokens",
        "login_links",
        "processed_events",
        "switch_offers",
        "sign_ins",
        "auth_failures",
        "webhook_secrets",
        "notifications",
        "teams",
        "team_members",
        "team_invites",
        "team_posts",
    }
    migrate.check(url)  # raises if autogenerate finds any drift

    migrate.downgrade(url, "base")
    assert _tables(url) == {"alembic_version"}


def test_links_stored_before_the_canonical_rule_are_dropped_and_the_issue_kept(
    scratch_database: str,
) -> None:
    url = sqlalchemy_url(scratch_database)
    migrate.upgrade(url, "0002")
    links = {
        "https://github.com/octo/hello/issues/7": "https://github.com/octo/hello/issues/7",
        "javascript:alert(1)": None,
        "https://github.com/octo/hello/issues/7)[x](https://evil.example)": None,
    }
    with psycopg.connect(libpq_url(scratch_database)) as conn:
        conn.execute("INSERT INTO users (id, timezone) VALUES ('u', 'UTC')")
        conn.execute("INSERT INTO subjects (user_id, name) VALUES ('u', 'octo/hello')")
        for link in links:
            conn.execute(
                "INSERT INTO sessions (user_id, subject_id, started_at, ended_at, status, source,"
                " github_repo, github_issue_number, github_issue_url)"
                " SELECT 'u', id, now(), now(), 'ENDED_CONFIRMED', 'github', 'octo/hello', 7, %s"
                " FROM subjects",
                (link,),
            )
            conn.execute(
                "INSERT INTO switch_offers (user_id, github_repo, github_issue_number,"
                " github_issue_url, issue_title) VALUES ('u', 'octo/hello', 7, %s, '')",
                (link,),
            )

    migrate.upgrade(url)

    with psycopg.connect(libpq_url(scratch_database)) as conn:
        for table in ("sessions", "switch_offers"):
            rows = conn.execute(
                f"SELECT github_repo, github_issue_number, github_issue_url FROM {table}"  # noqa: S608
                " ORDER BY id"
            ).fetchall()
            assert rows == [("octo/hello", 7, kept) for kept in links.values()]


def test_schema_refuses_an_issue_link_that_is_not_canonical(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("INSERT INTO users (id, timezone) VALUES ('z', 'UTC')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO switch_offers (user_id, github_repo, github_issue_number,"
                " github_issue_url, issue_title) VALUES ('z', 'a/b', 1, 'javascript:x', '')"
            )
        conn.rollback()


def test_existing_users_get_their_first_summary_next_monday_morning(
    scratch_database: str,
) -> None:
    url = sqlalchemy_url(scratch_database)
    migrate.upgrade(url, "0005")
    zones = {"a": "Australia/Sydney", "b": "Pacific/Honolulu", "c": "Nowhere/Land"}
    with psycopg.connect(libpq_url(url)) as conn:
        for user_id, zone in zones.items():
            conn.execute("INSERT INTO users (id, timezone) VALUES (%s, %s)", (user_id, zone))
    before = datetime.now(UTC)

    migrate.upgrade(url)

    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT id, remind_after_minutes, weekly_summary, next_summary_at FROM users"
        ).fetchall()
    found = {user_id: (minutes, summary, due) for user_id, minutes, summary, due in rows}
    for user_id in ("a", "b"):
        zone = zones[user_id]
        next_monday = week_start_for(zone, before) + timedelta(days=7)
        assert found[user_id] == (120, True, summary_time(zone, next_monday))
    # A name the tz database does not know is worked out by the first tick instead.
    assert found["c"] == (120, True, None)


def test_schema_enforces_one_active_session_per_user(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("INSERT INTO users (id, timezone) VALUES ('x', 'UTC')")
        conn.execute("INSERT INTO subjects (user_id, name) VALUES ('x', 'Maths')")
        insert = (
            "INSERT INTO sessions (user_id, subject_id, started_at, status, source) "
            "SELECT 'x', id, now(), %s, 'api' FROM subjects WHERE user_id = 'x'"
        )
        conn.execute(insert, ("RUNNING",))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, ("RUNNING",))
        conn.rollback()


def test_pausing_and_resuming_are_hot_updates(database_url: str) -> None:
    """No index of `sessions` mentions `status`, so a status change writes no index entry."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        definitions = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'sessions'"
        ).fetchall()
        assert not [d for (d,) in definitions if "status" in d]
        conn.execute("INSERT INTO users (id, timezone) VALUES ('h', 'UTC')")
        conn.execute("INSERT INTO subjects (user_id, name) VALUES ('h', 'Maths')")
        conn.execute(
            "INSERT INTO sessions (user_id, subject_id, started_at, status, source) "
            "SELECT 'h', id, now(), 'RUNNING', 'api' FROM subjects WHERE user_id = 'h'"
        )
        pause = (
            "UPDATE sessions SET status = 'PAUSED', pause_started_at = now() WHERE user_id = 'h'"
        )
        conn.execute(pause)
        conn.execute(
            "UPDATE sessions SET status = 'RUNNING', pause_started_at = NULL, "
            "total_paused_seconds = 1 WHERE user_id = 'h'"
        )
        counts = conn.execute(
            "SELECT pg_stat_get_xact_tuples_updated(oid), pg_stat_get_xact_tuples_hot_updated(oid)"
            " FROM pg_class WHERE relname = 'sessions'"
        ).fetchone()
        assert counts == (2, 2)
        conn.rollback()


def test_schema_refuses_a_second_subject_differing_only_in_case(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("INSERT INTO users (id, timezone) VALUES ('y', 'UTC')")
        conn.execute("INSERT INTO subjects (user_id, name) VALUES ('y', 'Maths')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO subjects (user_id, name) VALUES ('y', 'MATHS')")
        conn.rollback()


async def test_health_reports_the_database_and_version(engine: object) -> None:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"]


async def test_health_is_503_when_the_database_does_not_answer(database_url: str) -> None:
    database.configure(REFUSING_URL)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/api/health")
    finally:
        await database.dispose()
        database.configure(database_url)
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_unknown_route_is_a_json_404(engine: object) -> None:
    import asyncio

    async def fetch() -> tuple[int, dict[str, str]]:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/api/nowhere")
        return response.status_code, response.json()

    status, body = asyncio.run(fetch())
    assert status == 404
    assert set(body) == {"error", "detail"}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIMETRACK_STALE_HOURS", "soon"),
        ("TIMETRACK_DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DISCORD_PUBLIC_KEY", "not-hex"),
        ("TIMETRACK_BASE_URL", "ftp://example.com"),
        ("TIMETRACK_ENV", "staging"),
        ("TIMETRACK_TICK_SECONDS", "-1"),
        ("TIMETRACK_TICK_SECONDS", "0.5"),
        ("TIMETRACK_TICK_SECONDS", "every minute"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    settings_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    settings_env.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_production_requires_a_secret_key_and_a_database(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("TIMETRACK_ENV", "production")
    settings_env.delenv("DATABASE_URL", raising=False)
    settings_env.delenv("TIMETRACK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="TIMETRACK_SECRET_KEY, DATABASE_URL"):
        load_settings().check_production()


def test_the_local_secret_key_is_generated_once(
    settings_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_env.setenv("TIMETRACK_DATA_DIR", str(tmp_path))
    settings_env.delenv("TIMETRACK_SECRET_KEY", raising=False)
    first = load_settings().signing_key()
    assert len(first) >= 32
    assert load_settings().signing_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def _timetrack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_cli_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "token", "login-link", "discord", "github", "health"):
        assert command in result.output


def test_cli_config_error_is_one_line_and_exit_2() -> None:
    result = _timetrack("db", "url", env={"TIMETRACK_STALE_HOURS": "-3"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TIMETRACK_STALE_HOURS" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unknown_revision_is_one_line(database_url: str) -> None:
    result = _timetrack("db", "downgrade", "nonsense", env={"DATABASE_URL": database_url})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("timetrack: ")


def test_cli_unreachable_database_is_one_line() -> None:
    result = _timetrack("token", "create", "--user", "1", env={"DATABASE_URL": REFUSING_URL})
    assert result.returncode == 1
    assert "database is unavailable" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_usage_error_exits_2() -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2


@pytest.mark.parametrize(("workers", "pool"), [("1", "32"), ("4", "8"), ("16", "4")])
def test_serve_prepares_the_database_once_and_shares_the_pool_among_its_workers(
    settings_env: pytest.MonkeyPatch, database_url: str, workers: str, pool: str
) -> None:
    import uvicorn

    served: list[tuple[str, dict[str, object], str, str]] = []

    def run(target: str, **options: object) -> None:
        environment = os.environ["DATABASE_URL"], os.environ["DATABASE_POOL_SIZE"]
        served.append((target, options, *environment))

    settings_env.setattr(uvicorn, "run", run)
    settings_env.setenv("DATABASE_URL", database_url)
    settings_env.setenv("DATABASE_POOL_SIZE", "0")  # restored afterwards; unset just below
    settings_env.delenv("DATABASE_POOL_SIZE")
    get_settings.cache_clear()

    result = CliRunner().invoke(cli, ["serve", "--workers", workers, "--no-migrate"])

    assert result.exit_code == 0, result.output
    [(target, options, url, size)] = served
    assert (target, options["workers"], url, size) == (
        "server.router:app",
        int(workers),
        libpq_url(resolve_database_url()),
        pool,
    )


def test_cli_health_and_db_url(database_url: str) -> None:
    result = _timetrack("health", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["database"] == "ok"
    result = _timetrack("db", "url", env={"DATABASE_URL": database_url})
    assert result.stdout.strip() == libpq_url(database_url)


def test_cli_health_is_exit_1_when_the_database_is_down() -> None:
    result = _timetrack("health", env={"DATABASE_URL": REFUSING_URL})
    assert result.returncode == 1
    assert json.loads(result.stdout)["database"] == "unavailable"


def test_two_processes_starting_the_embedded_server_at_once_share_it(tmp_path: Path) -> None:
    env = {**os.environ, "TIMETRACK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "app", "db", "url"]
    racers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        results = [racer.communicate(timeout=120) for racer in racers]
        assert [racer.returncode for racer in racers] == [0, 0], results
        urls = {out.strip() for out, _ in results}
        assert len(urls) == 1
        with psycopg.connect(urls.pop()) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("timetrack",)
    finally:
        pid_file = tmp_path / "data" / "pgdata" / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    get_settings.cache_clear()
