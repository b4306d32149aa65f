"""Production refuses to start without TIMETRACK_SECRET_KEY and DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ConfigError, get_settings
from server.router import app
from tests.ops.conftest import ROOT, run_timetrack

NAMES = ("TIMETRACK_SECRET_KEY", "DATABASE_URL")


def production_env(settings_env: pytest.MonkeyPatch, **values: str) -> None:
    for name in (*NAMES, "VERCEL", "TIMETRACK_ENV"):
        settings_env.delenv(name, raising=False)
    for name, value in values.items():
        settings_env.setenv(name, value)
    get_settings.cache_clear()


async def start_app() -> None:
    async with app.router.lifespan_context(app):
        pass


@pytest.mark.parametrize(
    "environment", [{"TIMETRACK_ENV": "production"}, {"VERCEL": "1"}], ids=["env", "vercel"]
)
async def test_startup_refuses_without_the_secret_key_and_database(
    settings_env: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    production_env(settings_env, **environment)

    with pytest.raises(ConfigError) as refused:
        await start_app()

    message = str(refused.value)
    assert all(name in message for name in NAMES)
    assert "\n" not in message


async def test_the_message_names_only_what_is_missing(settings_env: pytest.MonkeyPatch) -> None:
    production_env(settings_env, TIMETRACK_ENV="production", DATABASE_URL="postgresql://db/x")

    with pytest.raises(ConfigError, match="TIMETRACK_SECRET_KEY") as refused:
        await start_app()
    assert "DATABASE_URL" not in str(refused.value)


async def test_startup_proceeds_when_both_are_set(settings_env: pytest.MonkeyPatch) -> None:
    production_env(
        settings_env,
        VERCEL="1",
        DATABASE_URL="postgresql://user@db.example/timetrack",
        TIMETRACK_SECRET_KEY="a-long-random-secret",
    )
    await start_app()  # and, like an import, it connects to nothing


async def test_development_needs_neither(settings_env: pytest.MonkeyPatch) -> None:
    production_env(settings_env, TIMETRACK_ENV="development")
    await start_app()


def test_the_server_exits_at_startup_under_uvicorn_as_on_vercel(tmp_path: Path) -> None:
    """Vercel's Python runtime serves the app with uvicorn and `lifespan="auto"`."""
    env = {k: v for k, v in os.environ.items() if k not in (*NAMES, "TIMETRACK_ENV")}
    env |= {"VERCEL": "1", "TIMETRACK_DATA_DIR": str(tmp_path / "data")}
    code = (
        "import uvicorn; uvicorn.run('server.router:app', host='127.0.0.1', port=0, "
        "lifespan='auto', log_level='error')"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "TIMETRACK_SECRET_KEY, DATABASE_URL: required" in result.stderr
    assert not (tmp_path / "data").exists()  # no embedded server, no generated key


def test_timetrack_serve_refuses_with_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"TIMETRACK_ENV": "production", "TIMETRACK_DATA_DIR": str(data_dir)}
    os_env = {k: v for k, v in os.environ.items() if k not in NAMES}

    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "8765"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os_env, **env},
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "timetrack: TIMETRACK_SECRET_KEY, DATABASE_URL: "
        "required when TIMETRACK_ENV=production or on Vercel"
    )
    assert not data_dir.exists()


def test_migrations_are_a_deploy_step_never_a_cold_start() -> None:
    """Nothing on the request path runs Alembic; `timetrack db upgrade` does, once."""
    result = run_timetrack("db", "--help")
    assert "upgrade" in result.stdout
    program = (
        "import sys, server.router\n"
        "print(sorted(m for m in sys.modules if m == 'app.migrate' or m.startswith('alembic')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
