"""Cold start: a fresh process imports the app and answers a signed PING.

A child interpreter is started with `-c` (the same interpreter, no site tweaks); it imports
`server.router`, then calls the ASGI app in process with one signed PING and prints when
each step finished. Times are measured from just before the parent spawns the child, so
they include interpreter start-up. No database is touched: a PING needs none.

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

from bench import interactions

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

request = json.loads(sys.argv[1])
sent = asyncio.run(call(request["body"].encode(), request["headers"]))
answered_at = time.time()
status = next(m["status"] for m in sent if m["type"] == "http.response.start")
body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
print(json.dumps({"imported_at": imported_at, "answered_at": answered_at,
                  "status": status, "body": body.decode()}), flush=True)
"""


def _child_env(public_key_hex: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["DISCORD_PUBLIC_KEY"] = public_key_hex
    env["PYTHONPATH"] = str(ROOT)
    return env


def measure_once(signer: interactions.Signer) -> dict[str, float]:
    body, headers = signer.sign(interactions.ping())
    request = json.dumps({"body": body.decode(), "headers": headers})
    started = time.time()
    output = subprocess.run(
        [sys.executable, "-c", CHILD, request],
        env=_child_env(signer.public_hex),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    exited = time.time()
    child = json.loads(output.stdout.strip().splitlines()[-1])
    if child["status"] != 200 or json.loads(child["body"]) != {"type": 1}:
        raise RuntimeError(f"PING was answered {child['status']} {child['body']}")
    return {
        "import_s": child["imported_at"] - started,
        "first_ping_s": child["answered_at"] - started,
        "process_exit_s": exited - started,
    }


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


def run(runs: int = 5, top: int = 12) -> dict[str, Any]:
    signer = interactions.Signer()
    measure_once(signer)  # the first run pays for cold file caches; it is not counted
    samples = [measure_once(signer) for _ in range(runs)]
    figures: dict[str, Any] = {"runs": runs}
    for key in ("import_s", "first_ping_s", "process_exit_s"):
        values = sorted(sample[key] for sample in samples)
        figures[key] = {
            "median": round(statistics.median(values), 3),
            "min": round(values[0], 3),
            "max": round(values[-1], 3),
        }
    figures["import_profile"] = import_profile(top)
    return figures


def print_results(results: dict[str, Any]) -> None:
    ping, imported = results["first_ping_s"], results["import_s"]
    print(f"\ncold start over {results['runs']} fresh processes (target: first PING <= 0.5 s)")
    print(
        f"  import server.router: median {imported['median']:.3f} s "
        f"(min {imported['min']:.3f}, max {imported['max']:.3f})"
    )
    print(
        f"  first PING answered:  median {ping['median']:.3f} s "
        f"(min {ping['min']:.3f}, max {ping['max']:.3f})"
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
