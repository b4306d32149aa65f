"""Servers under test, each a subprocess: `timetrack serve`, the lean baseline and the bare
endpoint (both under uvicorn, as `timetrack serve` runs the app).

Each listens on a free 127.0.0.1 port only, logs to a file (never a pipe nobody reads),
and is stopped with SIGINT (then SIGKILL if it lingers) when the block ends. `timetrack`
can also serve another copy of the project (`tree`), for before-and-after runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy.engine import make_url

from app.db import libpq_url
from bench.common import ROOT, free_port

STARTUP_TIMEOUT = 90.0


@dataclass
class Served:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    database_name: str | None = None
    _ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self._ps = psutil.Process(self.process.pid)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (user + system), workers included."""
        total = 0.0
        for process in [self._ps, *self._ps.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def database_cpu(self) -> dict[int, float]:
        """CPU time so far of each PostgreSQL backend serving this server's database, by pid.

        Backends come and go with the pool, so callers subtract snapshots pid by pid.
        """
        found: dict[int, float] = {}
        if self.database_name is None:
            return found
        for process in psutil.process_iter(["cmdline"]):
            try:
                cmdline = " ".join(process.info["cmdline"] or [])
                if cmdline.startswith("postgres:") and f" {self.database_name} " in cmdline:
                    times = process.cpu_times()
                    found[process.pid] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _wait_until_up(served: Served, probe: str, expect: set[int]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"{served.name} exited early:\n{served.log_tail()}")
        try:
            method, path = probe.split(" ", 1)
            response = httpx.request(method, served.base_url + path, timeout=5.0)
            if response.status_code in expect:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{served.name} did not come up in {STARTUP_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def _serve(
    name: str,
    argv: list[str],
    env: dict[str, str],
    probe: str,
    expect: set[int],
    cwd: Path = ROOT,
) -> Iterator[Served]:
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept for the tail
        prefix=f"bench-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    log.close()
    port = argv[argv.index("--port") + 1]
    served = Served(name, f"http://127.0.0.1:{port}", process, Path(log.name))
    try:
        _wait_until_up(served, probe, expect)
        yield served
    finally:
        _stop(process)
        with contextlib.suppress(OSError):
            Path(log.name).unlink()


def _environment(tree: Path, **settings: str) -> dict[str, str]:
    """This environment, minus what would reach Discord or GitHub, importing from `tree`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISCORD_BOT_TOKEN", "DISCORD_APPLICATION_ID", "GITHUB_TOKEN")
    }
    env["PYTHONPATH"] = str(tree)
    return env | settings


@contextlib.contextmanager
def timetrack(
    name: str,
    database_url: str,
    public_key_hex: str,
    *,
    workers: int | None = 1,
    tree: Path = ROOT,
) -> Iterator[Served]:
    """`timetrack serve` from `tree` on a free port, against `database_url`.

    `workers=None` leaves the option out, for a copy of the project that predates it.
    """
    port = free_port()
    # No bot token or application id: a deferred answer must not try to reach Discord.
    env = _environment(
        tree,
        DATABASE_URL=libpq_url(database_url),
        DISCORD_PUBLIC_KEY=public_key_hex,
        TIMETRACK_SECRET_KEY="bench-" + os.urandom(16).hex(),
        TIMETRACK_ENV="development",
        # Measure requests alone, not the scheduler's own ticks.
        TIMETRACK_TICK_SECONDS="0",
    )
    argv = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        argv += ["--workers", str(workers)]
    with _serve(name, argv, env, "GET /api/health", {200}, cwd=tree) as served:
        served.database_name = make_url(database_url).database
        yield served


def _uvicorn(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@contextlib.contextmanager
def lean(database_url: str, public_key_hex: str) -> Iterator[Served]:
    """bench.lean_app, served by uvicorn as `timetrack serve` serves the app."""
    env = _environment(
        ROOT, DATABASE_URL=libpq_url(database_url), DISCORD_PUBLIC_KEY=public_key_hex
    )
    argv = _uvicorn("bench.lean_app:app", free_port())
    with _serve("lean", argv, env, "POST /api/discord", {401}) as served:
        served.database_name = make_url(database_url).database
        yield served


@contextlib.contextmanager
def bare(public_key_hex: str) -> Iterator[Served]:
    """bench.bare_app served by uvicorn the same way (`timetrack serve` uses uvicorn.run)."""
    env = _environment(ROOT, DISCORD_PUBLIC_KEY=public_key_hex)
    argv = _uvicorn("bench.bare_app:app", free_port())
    with _serve("bare", argv, env, "POST /api/discord", {401}) as served:
        yield served
