"""The Action end to end: action/forward.py run as a process against the app served by
uvicorn in a background thread, on the test database with real commits.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.config import get_settings
from app.db import database

ROOT = Path(__file__).resolve().parents[2]
FORWARD = ROOT / "action" / "forward.py"
SECRET = "action-secret-for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The app on a free 127.0.0.1 port, in a thread with its own event loop.

    An async engine's connections belong to the loop that opened them, so the server gets
    an engine of its own for as long as it runs; the tests' engine (and `committed`) is put
    back afterwards.
    """
    from server.router import app

    saved = (database._engine, database._sessions)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    failure: list[BaseException] = []

    async def run() -> None:
        database.configure(database_url)
        try:
            await server.serve()
        finally:
            await database.dispose()

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=main, name="uvicorn-for-tests", daemon=True)
    thread.start()
    try:
        ready = threading.Event()
        while not server.started and thread.is_alive():
            ready.wait(0.02)  # waiting for start-up, not for time to pass
        if not server.started:
            raise RuntimeError(f"the test server did not start: {failure}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        database._engine, database._sessions = saved


@dataclass
class Forwarded:
    returncode: int
    stdout: str
    stderr: str


def run_forward(
    event: str, payload: dict[str, Any] | bytes, tmp_path: Path, **env: str
) -> Forwarded:
    """Run the Action's script as the runner would, with the event file and inputs."""
    path = tmp_path / f"event-{event}.json"
    path.write_bytes(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "TIMETRACK_SECRET": SECRET,
    } | env
    completed = subprocess.run(
        [sys.executable, str(FORWARD)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Forwarded(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def action_env(settings_env: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    settings_env.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    for name in ("DISCORD_BOT_TOKEN", "GITHUB_TOKEN"):
        settings_env.delenv(name, raising=False)
    get_settings.cache_clear()
    yield settings_env
