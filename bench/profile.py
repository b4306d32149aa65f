"""Where a request's CPU goes: the app in process, one request at a time, under pyinstrument.

The app is called as ASGI directly (no HTTP client, no socket), on a scratch database
seeded like the load benchmark, so the figures are the app's own work: CPU per request
(`time.process_time`, which PostgreSQL's work does not count in) and, with --profile, a
pyinstrument call tree. The loop is uvloop when installed, as under `timetrack serve`.
CPU time still varies with what else runs on the machine (caches, shared cores), so each
scenario runs `--repeat` times and the lowest median is reported too. `--lean` measures the
lean baseline (bench.lean_app) the same way.

    python -m bench.profile [--scenario status|clicks|rest|all] [--requests 400] [--repeat 3]
                            [--lean] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
from typing import Any

from app.config import get_settings
from app.db import database, libpq_url
from bench import interactions
from bench.common import scratch_database
from bench.load import BenchUser, PauseResumeClicks, RestCalls, Scenario, StatusCommands, seed


class Answer:
    """Just enough of an httpx.Response for `Scenario.observe`."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> Any:
        import json

        return json.loads(self._body)


async def call(app: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(status, content)


async def _drive(app: Any, scenario: Scenario, requests: int) -> list[float]:
    cpu: list[float] = []
    for n in range(requests):
        request = scenario.next(n % len(scenario.users))
        started = time.process_time()
        answer = await call(
            app, request.method, request.path, request.content or b"", request.headers
        )
        cpu.append(time.process_time() - started)
        if answer.status_code >= 500:
            raise RuntimeError(f"{scenario.name}: {answer.status_code}")
        scenario.observe(n % len(scenario.users), answer)  # type: ignore[arg-type]
    return cpu


def _event_loop_run(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def _run(
    url: str,
    users: list[BenchUser],
    names: list[str],
    requests: int,
    repeat: int,
    profile: bool,
    lean: bool,
) -> dict[str, Any]:
    signer = interactions.Signer()
    os.environ["DISCORD_PUBLIC_KEY"] = signer.public_hex
    get_settings.cache_clear()
    if lean:
        os.environ["DATABASE_URL"] = libpq_url(url)
        from bench import lean_app

        app: Any = lean_app.app
        await lean_app.pool.open()
    else:
        from server.router import app

        logging.getLogger("timetrack.request").setLevel(logging.WARNING)
        database.configure(url)
    kinds = {"status": StatusCommands, "clicks": PauseResumeClicks, "rest": RestCalls}
    results: dict[str, Any] = {}
    try:
        for name in names:
            scenario = kinds[name](signer, users)
            await _drive(app, scenario, 50)  # warm caches and the pool
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
            medians: list[float] = []
            for _ in range(repeat):
                cpu = await _drive(app, scenario, requests)
                medians.append(statistics.median(cpu) * 1000)
                if profiler is not None:
                    break
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
            results[name] = {
                "requests": requests,
                "cpu_ms_median_per_run": [round(m, 3) for m in medians],
                "cpu_ms_best_median": round(min(medians), 3),
            }
            print(
                f"{name}: app CPU per request, median of each run "
                + ", ".join(f"{m:.3f}" for m in medians)
                + f" ms (best {min(medians):.3f} ms, {requests} requests a run)",
                flush=True,
            )
    finally:
        if lean:
            await lean_app.pool.close()
        await database.dispose()
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scenario", default="all", choices=["status", "clicks", "rest", "all"])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument tree")
    parser.add_argument("--lean", action="store_true", help="the lean baseline instead")
    args = parser.parse_args(argv)
    names = ["status", "clicks", "rest"] if args.scenario == "all" else [args.scenario]
    return run(names, args.requests, args.repeat, args.users, profile=args.profile, lean=args.lean)


def run(
    names: list[str] | None = None,
    requests: int = 400,
    repeat: int = 3,
    users: int = 8,
    *,
    profile: bool = False,
    lean: bool = False,
) -> dict[str, Any]:
    saved = os.environ.get("DISCORD_PUBLIC_KEY")
    try:
        with scratch_database("profile") as url:
            seeded = seed(url, users)
            return _event_loop_run(
                _run(
                    url,
                    seeded,
                    names or ["status", "clicks", "rest"],
                    requests,
                    repeat,
                    profile,
                    lean,
                )
            )
    finally:
        if saved is None:
            os.environ.pop("DISCORD_PUBLIC_KEY", None)
        else:
            os.environ["DISCORD_PUBLIC_KEY"] = saved
        get_settings.cache_clear()


if __name__ == "__main__":
    main()
