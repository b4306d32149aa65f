"""Servers under test: `timetrack serve` and the bare endpoint, each a uvicorn subprocess.

Both listen on a free 127.0.0.1 port only, log to a file (never a pipe nobody reads),
and are stopped with SIGINT (then SIGKILL if they linger) when the block ends.
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

from app.db import libpq_url
from bench.common import free_port

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
        """CPU time used so far by the server process (user + system)."""
        times = self._ps.cpu_times()
        return float(times.user + times.system)

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
    name: str, argv: list[str], env: dict[str, str], probe: str, expect: set[int]
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
        cwd=Path(__file__).resolve().parent.parent,
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


@contextlib.contextmanager
def timetrack(database_url: str, public_key_hex: str) -> Iterator[Served]:
    """`timetrack serve` on a free port, against `database_url`, trusting `public_key_hex`."""
    from sqlalchemy.engine import make_url

    port = free_port()
    # No bot token or application id: a deferred answer must not try to reach Discord.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISCORD_BOT_TOKEN", "DISCORD_APPLICATION_ID", "GITHUB_TOKEN")
    }
    env |= {
        "DATABASE_URL": libpq_url(database_url),
        "DISCORD_PUBLIC_KEY": public_key_hex,
        "TIMETRACK_SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "TIMETRACK_ENV": "development",
        # Measure requests alone, not the scheduler's own ticks.
        "TIMETRACK_TICK_SECONDS": "0",
    }
    argv = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with _serve("timetrack", argv, env, "GET /api/health", {200}) as served:
        served.database_name = make_url(database_url).database
        yield served


@contextlib.contextmanager
def bare(public_key_hex: str) -> Iterator[Served]:
    """bench.bare_app served by uvicorn the same way (`timetrack serve` uses uvicorn.run)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {**os.environ, "DISCORD_PUBLIC_KEY": public_key_hex}
    with _serve("bare", argv, env, "POST /api/discord", {401}) as served:
        yield served
