"""Cold start: a fresh process imports the app and answers a signed PING.

A child interpreter is started with `-c` (the same interpreter, no site tweaks); it imports
`server.router`, then calls the ASGI app in process with one signed PING and prints when
each step finished. Times are measured from just before the parent spawns the child, so
they include interpreter start-up. No database is touched: a PING needs none.

Two more figures show where the limit is: the same kind of child that only starts the
interpreter, and one that only imports the libraries the app cannot answer without
(FastAPI, SQLAlchemy's ORM and asyncio extension, pydantic-settings, PyNaCl). And, on a
scratch database, the time to a first real interaction (`/session status`, which opens the
first database connection) after the PING.

It also runs `python -X importtime -c "import server.router"` and lists the modules with
the largest cumulative import time.

    python -m bench.cold_start [--runs 5] [--top 12]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from app.db import libpq_url
from bench import interactions
from bench.common import scratch_database

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: every time printed is time.time(), compared with the parent's clock.
CHILD = r"""
import asyncio, json, sys, time
imported_at = None
import server.router
imported_at = time.time()

async def call(body, headers):
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []
    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}
    async def send(message):
        sent.append(message)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "https", "path": "/api/discord", "raw_path": b"/api/discord",
        "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 443),
    }
    await server.router.app(scope, receive, send)
    return sent

answers = []
for request in json.loads(sys.argv[1]):
    sent = asyncio.run(call(request["body"].encode(), request["headers"]))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answers.append({"at": time.time(), "status": status, "body": body.decode()})
print(json.dumps({"imported_at": imported_at, "answers": answers}), flush=True)
"""

FLOOR = (
    "import time; import fastapi, sqlalchemy.orm, sqlalchemy.ext.asyncio, pydantic_settings, "
    "nacl.signing; print(time.time())"
)
BARE_INTERPRETER = "import time; print(time.time())"


def _child_env(public_key_hex: str, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["DISCORD_PUBLIC_KEY"] = public_key_hex
    env["PYTHONPATH"] = str(ROOT)
    if database_url is not None:
        env["DATABASE_URL"] = libpq_url(database_url)
        env["TIMETRACK_SECRET_KEY"] = "cold-start-" + "0" * 32
    return env


def _spawn(code: str, argument: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.time()
    output = subprocess.run(
        [sys.executable, "-c", code, argument],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return started, output.stdout.strip().splitlines()[-1]


def measure_once(signer: interactions.Signer, database_url: str | None = None) -> dict[str, float]:
    """Seconds from spawning a child to: app imported, PING answered (and, with a database,
    a first `/session status` answered)."""
    payloads = [interactions.ping()]
    if database_url is not None:
        payloads.append(interactions.command("session status", "1990000000000000001"))
    requests = []
    for payload in payloads:
        body, headers = signer.sign(payload)
        requests.append({"body": body.decode(), "headers": headers})
    started, line = _spawn(CHILD, json.dumps(requests), _child_env(signer.public_hex, database_url))
    child = json.loads(line)
    ping = child["answers"][0]
    if ping["status"] != 200 or json.loads(ping["body"]) != {"type": 1}:
        raise RuntimeError(f"PING was answered {ping['status']} {ping['body']}")
    figures = {
        "import_s": child["imported_at"] - started,
        "first_ping_s": ping["at"] - started,
    }
    if database_url is not None:
        status = child["answers"][1]
        if status["status"] != 200 or json.loads(status["body"]).get("type") != 4:
            raise RuntimeError(f"/session status was answered {status['status']}")
        figures["first_interaction_s"] = status["at"] - started
    return figures


def measure_floor(code: str) -> float:
    started, line = _spawn(code, "", _child_env("00" * 32))
    return float(line) - started


def import_profile(top: int) -> list[dict[str, Any]]:
    """The modules with the largest cumulative import time (`-X importtime`)."""
    output = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import server.router"],
        env=_child_env("00" * 32),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in output.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.removeprefix("import time:").split("|")
        try:
            own, cumulative = int(parts[0]), int(parts[1])
        except ValueError:
            continue
        name = parts[2].rstrip()
        rows.append(
            {
                "module": name.strip(),
                "depth": (len(name) - len(name.lstrip())) // 2,
                "self_ms": own / 1000,
                "cumulative_ms": cumulative / 1000,
            }
        )
    rows.sort(key=lambda row: row["cumulative_ms"], reverse=True)
    return rows[:top]


def _spread(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "median": round(statistics.median(values), 3),
        "min": round(values[0], 3),
        "max": round(values[-1], 3),
    }


def run(runs: int = 5, top: int = 12, *, with_database: bool = True) -> dict[str, Any]:
    signer = interactions.Signer()
    measure_once(signer)  # the first run pays for cold file caches; it is not counted
    samples = [measure_once(signer) for _ in range(runs)]
    figures: dict[str, Any] = {"runs": runs}
    for key in ("import_s", "first_ping_s"):
        figures[key] = _spread([sample[key] for sample in samples])
    figures["interpreter_s"] = _spread([measure_floor(BARE_INTERPRETER) for _ in range(runs)])
    figures["framework_floor_s"] = _spread([measure_floor(FLOOR) for _ in range(runs)])
    if with_database:
        with scratch_database("cold_start") as url:
            migrated = [measure_once(signer, url) for _ in range(runs)]
        figures["first_interaction_s"] = _spread([m["first_interaction_s"] for m in migrated])
    figures["import_profile"] = import_profile(top)
    return figures


def print_results(results: dict[str, Any]) -> None:
    print(
        f"\ncold start over {results['runs']} fresh processes"
        " (targets: first PING <= 0.6 s, first /session status <= 1.0 s)"
    )
    rows = [
        ("interpreter only (python -c)", "interpreter_s"),
        ("framework floor (fastapi, sqlalchemy, ...)", "framework_floor_s"),
        ("import server.router", "import_s"),
        ("first PING answered", "first_ping_s"),
        ("first /session status (opens the database)", "first_interaction_s"),
    ]
    for label, key in rows:
        if key in results:
            f = results[key]
            print(
                f"  {label:<44} median {f['median']:.3f} s (min {f['min']:.3f}, max {f['max']:.3f})"
            )
    print("  largest cumulative imports (python -X importtime -c 'import server.router'):")
    for row in results["import_profile"]:
        print(f"    {row['cumulative_ms']:>8.1f} ms  {'  ' * row['depth']}{row['module']}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    results = run(args.runs, args.top)
    print_results(results)
    return results


if __name__ == "__main__":
    main()
