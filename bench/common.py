"""What every benchmark shares: a throwaway database, free ports, percentiles, the machine's load.

The throwaway database lives on the server the app uses (the embedded PostgreSQL, or
DATABASE_URL's server), is migrated with Alembic (by another copy of the project when one
is given, for before-and-after runs), and is dropped when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app import migrate
from app.db import ensure_database, libpq_url, resolve_database_url


def _drop(server_url: str, name: str) -> None:
    drop = psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        psycopg.sql.Identifier(name)
    )
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(drop)


ROOT = Path(__file__).resolve().parent.parent


def _migrate(url: str, tree: Path) -> None:
    if tree == ROOT:
        migrate.upgrade(url)
        return
    env = os.environ | {"DATABASE_URL": libpq_url(url), "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "app", "db", "upgrade"]
    subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def scratch_database(purpose: str, tree: Path = ROOT) -> Iterator[str]:
    """A fresh database migrated by `tree`'s migrations; yields its SQLAlchemy URL."""
    server_url = resolve_database_url()
    name = f"timetrack_bench_{purpose}_{os.getpid()}"
    _drop(server_url, name)
    url = ensure_database(server_url, name)
    try:
        _migrate(url, tree)
        yield url
    finally:
        maintenance = make_url(url).set(database="postgres").render_as_string(hide_password=False)
        _drop(maintenance, name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def summarise_ms(samples_seconds: Sequence[float]) -> dict[str, float]:
    values = sorted(s * 1000 for s in samples_seconds)
    if not values:
        return {"n": 0, "min": 0.0, "median": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "n": len(values),
        "min": round(values[0], 3),
        "median": round(statistics.median(values), 3),
        "p95": round(percentile(values, 0.95), 3),
        "max": round(values[-1], 3),
    }


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)
