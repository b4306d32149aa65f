"""Throughput and latency under concurrent load, against the bare signature-checking endpoint.

`timetrack serve` runs as a subprocess on a scratch database seeded with users, each with
an API token and a running session (one set of users for the Discord scenarios, another
for REST, so no scenario finds its sessions changed by another). An asyncio + httpx
generator then keeps `concurrency` requests in flight (closed loop) for `duration` seconds
per scenario:

- `status`: signed `/session status` commands;
- `clicks`: signed button clicks on the users' real sessions, pressing the card's first
  button each time (Pause, then Resume, ...);
- `rest`: `GET /api/timelogs/current/`, then `POST .../pause/` or `.../resume/`, in turn;
- `bare`: the same signed commands to bench.bare_app (signature check + constant answer).

Scenarios alternate within each round, over several rounds, so a burst of load from
elsewhere on the machine hits all of them alike; a short sweep over lower concurrencies
follows. Each worker has its own keep-alive connection. Loopback only; it stops by itself.
Besides latency and throughput it reports the CPU each request cost in the server, in
PostgreSQL (the backends serving the scratch database) and in the load generator itself.

    python -m bench.load [--concurrency 32] [--users 32] [--duration 3] [--rounds 3]
                         [--sweep 1,4,8,16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app import accounts
from app import session as sessions
from app.db import database
from app.models import SessionSource
from bench import interactions, servers
from bench.common import load_average, percentile, scratch_database

USER_BASE = 1_900_000_000_000_000_000


@dataclass(frozen=True)
class BenchUser:
    id: str
    token: str
    session_id: int


@dataclass
class Request:
    method: str
    path: str
    content: bytes | None
    headers: dict[str, str]


@dataclass
class Measured:
    """One scenario's run: latencies, answers, and CPU spent where."""

    scenario: str
    concurrency: int
    elapsed: float
    latencies: list[float]
    statuses: Counter[int]
    kinds: Counter[str]
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


@dataclass
class Totals:
    scenario: str
    runs: list[Measured] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        latencies = sorted(t * 1000 for run in self.runs for t in run.latencies)
        completed = sum(run.completed for run in self.runs)
        statuses: Counter[int] = Counter()
        kinds: Counter[str] = Counter()
        for run in self.runs:
            statuses.update(run.statuses)
            kinds.update(run.kinds)
        per_request = max(completed, 1)
        return {
            "scenario": self.scenario,
            "concurrency": self.runs[0].concurrency if self.runs else 0,
            "requests": completed,
            "throughput_rps": round(sum(r.completed for r in self.runs) / self._elapsed(), 1),
            "throughput_rps_per_round": [round(r.throughput, 1) for r in self.runs],
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p95_ms": round(percentile(latencies, 0.95), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(latencies[-1], 2) if latencies else 0.0,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "answers": dict(sorted(kinds.items())),
            "server_cpu_ms_per_request": round(
                sum(r.server_cpu for r in self.runs) * 1000 / per_request, 3
            ),
            "database_cpu_ms_per_request": round(
                sum(r.database_cpu for r in self.runs) * 1000 / per_request, 3
            ),
            "client_cpu_ms_per_request": round(
                sum(r.client_cpu for r in self.runs) * 1000 / per_request, 3
            ),
            "server_cpu_utilisation": round(
                sum(r.server_cpu for r in self.runs) / self._elapsed(), 2
            ),
            "client_cpu_utilisation": round(
                sum(r.client_cpu for r in self.runs) / self._elapsed(), 2
            ),
        }

    def _elapsed(self) -> float:
        return sum(run.elapsed for run in self.runs) or 1.0


# --- requests of each scenario ----------------------------------------------------------


class Scenario:
    """Yields the next request for worker `i`; `observe` sees the answer."""

    name = ""

    def __init__(self, signer: interactions.Signer, users: list[BenchUser]) -> None:
        self.signer = signer
        self.users = users
        self.steps: Counter[int] = Counter()

    def user(self, worker: int) -> BenchUser:
        return self.users[worker % len(self.users)]

    def next(self, worker: int) -> Request:
        raise NotImplementedError

    def observe(self, worker: int, response: httpx.Response) -> None:
        """Learn from an answer (the session's state), so the next request is a real change."""

    def _signed(self, payload: dict[str, Any]) -> Request:
        body, headers = self.signer.sign(payload)
        return Request("POST", "/api/discord", body, headers)


class StatusCommands(Scenario):
    name = "status"

    def next(self, worker: int) -> Request:
        return self._signed(interactions.command("session status", self.user(worker).id))


class PauseResumeClicks(Scenario):
    """Press the card's first button (Pause or Resume), as a person toggling would."""

    name = "clicks"

    def __init__(self, signer: interactions.Signer, users: list[BenchUser]) -> None:
        super().__init__(signer, users)
        self.action: dict[int, str] = {}

    def next(self, worker: int) -> Request:
        user = self.user(worker)
        action = self.action.get(worker, "pause")
        return self._signed(interactions.click(f"{action}:{user.session_id}", user.id))

    def observe(self, worker: int, response: httpx.Response) -> None:
        try:
            first = response.json()["data"]["components"][0]["components"][0]["custom_id"]
        except (ValueError, KeyError, IndexError, TypeError):
            return
        self.action[worker] = first.partition(":")[0]


class RestCalls(Scenario):
    """Read the current session, then pause or resume it, whichever changes it."""

    name = "rest"

    def __init__(self, signer: interactions.Signer, users: list[BenchUser]) -> None:
        super().__init__(signer, users)
        self.paused: dict[int, bool] = {}

    def next(self, worker: int) -> Request:
        user = self.user(worker)
        self.steps[worker] += 1
        headers = {"Authorization": f"Token {user.token}"}
        if self.steps[worker] % 2:
            return Request("GET", "/api/timelogs/current/", None, headers)
        step = "resume" if self.paused.get(worker) else "pause"
        return Request("POST", f"/api/timelogs/{user.session_id}/{step}/", None, headers)

    def observe(self, worker: int, response: httpx.Response) -> None:
        if response.status_code == 200:
            self.paused[worker] = bool(response.json().get("is_paused"))


class BareCommands(StatusCommands):
    name = "bare"


# --- the generator -------------------------------------------------------------------------


def _kind(response: httpx.Response) -> str:
    """What kind of answer came back: a callback type for Discord, else the status class."""
    if response.request.url.path != "/api/discord" or response.status_code != 200:
        return f"http {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return "not json"
    data = body.get("data") or {}
    private = " private" if (data.get("flags") or 0) & 64 else ""
    return f"type {body.get('type')}{private}"


class Clients:
    """One httpx client (one keep-alive connection) per worker.

    A single client shared by many workers spends time linear in its pool size on every
    request (about 5 ms of client CPU per request at 32 connections here, against 1.4 ms
    with a client per worker), which would make the generator the bottleneck.
    """

    def __init__(self, base_url: str, count: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.base_url = base_url
        self.clients = [
            httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) for _ in range(count)
        ]

    def __getitem__(self, worker: int) -> httpx.AsyncClient:
        return self.clients[worker]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


CpuProbe = Callable[[], tuple[float, dict[int, float]]]


def _no_cpu() -> tuple[float, dict[int, float]]:
    return 0.0, {}


async def run_scenario(
    clients: Clients,
    scenario: Scenario,
    *,
    concurrency: int,
    duration: float,
    cpu: CpuProbe = _no_cpu,
) -> Measured:
    """Keep `concurrency` requests in flight for `duration` seconds; every answer counts."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration

    async def worker(index: int) -> None:
        client = clients[index]
        while loop.time() < deadline:
            request = scenario.next(index)
            started = time.perf_counter()
            try:
                response = await client.request(
                    request.method, request.path, content=request.content, headers=request.headers
                )
            except httpx.HTTPError as error:
                latencies.append(time.perf_counter() - started)
                statuses[0] += 1
                kinds[f"error {type(error).__name__}"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
            kinds[_kind(response)] += 1
            scenario.observe(index, response)

    server_before, database_before = cpu()
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    server_after, database_after = cpu()
    return Measured(
        scenario=scenario.name,
        concurrency=concurrency,
        elapsed=elapsed,
        latencies=latencies,
        statuses=statuses,
        kinds=kinds,
        server_cpu=server_after - server_before,
        database_cpu=sum(
            spent - database_before.get(pid, 0.0) for pid, spent in database_after.items()
        ),
        client_cpu=time.process_time() - client_before,
    )


async def seed(url: str, count: int) -> list[BenchUser]:
    """`count` users, each with an API token and a running session."""
    database.configure(url)
    users: list[BenchUser] = []
    try:
        async with database.sessions() as db, db.begin():
            for n in range(count):
                user_id = str(USER_BASE + n)
                _, plain = await accounts.create_api_token(db, user_id, "bench")
                session = await sessions.clock_in(
                    db, user_id, f"Subject {n % 3}", "load test", source=SessionSource.DISCORD
                )
                users.append(BenchUser(user_id, plain, session.id))
    finally:
        await database.dispose()
    return users


async def _drive(
    app: servers.Served,
    bare: servers.Served,
    signer: interactions.Signer,
    users: list[BenchUser],
    *,
    concurrency: int,
    duration: float,
    rounds: int,
    sweep: list[int],
    sweep_duration: float,
) -> dict[str, Any]:
    half = len(users) // 2
    discord_users, rest_users = users[:half], users[half:]
    scenarios: dict[str, Scenario] = {
        "status": StatusCommands(signer, discord_users),
        "clicks": PauseResumeClicks(signer, discord_users),
        # Users of their own, so neither scenario finds its sessions changed by the other.
        "rest": RestCalls(signer, rest_users),
        "bare": BareCommands(signer, discord_users),
    }
    totals = {name: Totals(name) for name in scenarios}
    ratios: dict[str, list[float]] = {"status": [], "clicks": []}
    sweep_results: list[dict[str, Any]] = []

    def app_cpu() -> tuple[float, dict[int, float]]:
        return app.cpu_seconds(), app.database_cpu()

    def bare_cpu() -> tuple[float, dict[int, float]]:
        return bare.cpu_seconds(), {}

    most = max([concurrency, *sweep])
    app_http, bare_http = Clients(app.base_url, most), Clients(bare.base_url, most)
    try:
        # Warm both: connections, the pool, caches of compiled statements.
        for name, scenario in scenarios.items():
            http = bare_http if name == "bare" else app_http
            await run_scenario(http, scenario, concurrency=concurrency, duration=min(duration, 1.0))
        for round_number in range(rounds):
            measured: dict[str, Measured] = {}
            for name in ("bare", "status", "clicks", "rest"):
                http, cpu = (bare_http, bare_cpu) if name == "bare" else (app_http, app_cpu)
                measured[name] = await run_scenario(
                    http, scenarios[name], concurrency=concurrency, duration=duration, cpu=cpu
                )
                totals[name].runs.append(measured[name])
            for name in ratios:
                ratios[name].append(measured[name].throughput / max(measured["bare"].throughput, 1))
            print(
                f"  round {round_number + 1}/{rounds}: "
                + ", ".join(f"{n} {m.throughput:.0f}/s" for n, m in measured.items())
                + f"  (load {load_average()[0]})",
                flush=True,
            )
        for level in sweep:
            for name in ("status", "clicks"):
                run = await run_scenario(
                    app_http,
                    scenarios[name],
                    concurrency=level,
                    duration=sweep_duration,
                    cpu=app_cpu,
                )
                figures = Totals(name, [run]).figures()
                sweep_results.append(
                    {
                        key: figures[key]
                        for key in ("scenario", "concurrency", "throughput_rps", "p50_ms", "p99_ms")
                    }
                )
    finally:
        await app_http.aclose()
        await bare_http.aclose()
    return {
        "concurrency": concurrency,
        "users": len(discord_users),
        "duration_s": duration,
        "rounds": rounds,
        "scenarios": {name: total.figures() for name, total in totals.items()},
        "ratio_to_bare": {
            name: {
                "per_round": [round(r, 3) for r in values],
                "median": round(statistics.median(values), 3) if values else 0.0,
            }
            for name, values in ratios.items()
        },
        "sweep": sweep_results,
    }


def run(
    *,
    concurrency: int = 32,
    users: int = 32,
    duration: float = 3.0,
    rounds: int = 3,
    sweep: list[int] | None = None,
    sweep_duration: float = 2.0,
) -> dict[str, Any]:
    signer = interactions.Signer()
    with scratch_database("load") as url:
        seeded = asyncio.run(seed(url, 2 * users))
        with (
            servers.timetrack(url, signer.public_hex) as app,
            servers.bare(signer.public_hex) as bare,
        ):
            results = asyncio.run(
                _drive(
                    app,
                    bare,
                    signer,
                    seeded,
                    concurrency=concurrency,
                    duration=duration,
                    rounds=rounds,
                    sweep=sweep or [],
                    sweep_duration=sweep_duration,
                )
            )
            server_errors = sum(
                count
                for figures in results["scenarios"].values()
                for status, count in figures["statuses"].items()
                if status == "0" or int(status) >= 500
            )
            if server_errors:
                print(f"  {server_errors} failed requests; server log tail:\n{app.log_tail()}")
    return results


def print_results(results: dict[str, Any]) -> None:
    print(
        f"\nload: {results['concurrency']} concurrent clients, {results['users']} users, "
        f"{results['rounds']} rounds of {results['duration_s']} s per scenario"
    )
    header = (
        f"  {'scenario':<8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'srv cpu':>8} {'db cpu':>7} {'cli cpu':>8}  answers"
    )
    print(header)
    for name, f in results["scenarios"].items():
        answers = ", ".join(f"{k}: {v}" for k, v in f["answers"].items())
        print(
            f"  {name:<8} {f['throughput_rps']:>8.1f} {f['p50_ms']:>8.2f} {f['p95_ms']:>8.2f} "
            f"{f['p99_ms']:>8.2f} {f['server_cpu_ms_per_request']:>6.2f}ms "
            f"{f['database_cpu_ms_per_request']:>5.2f}ms {f['client_cpu_ms_per_request']:>6.2f}ms"
            f"  {answers}"
        )
    for name, ratio in results["ratio_to_bare"].items():
        rounds = ", ".join(f"{r:.0%}" for r in ratio["per_round"])
        print(f"  {name} throughput / bare: median {ratio['median']:.0%} (rounds: {rounds})")
    if results["sweep"]:
        print("  concurrency sweep:")
        for row in results["sweep"]:
            print(
                f"    {row['scenario']:<7} c={row['concurrency']:<3} "
                f"{row['throughput_rps']:>7.1f}/s  p50 {row['p50_ms']:>7.2f} ms"
                f"  p99 {row['p99_ms']:>7.2f} ms"
            )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    args = parser.parse_args(argv)
    results = run_from_args(args)
    print_results(results)
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--users", type=int, default=32, help="distinct users")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all scenarios")
    parser.add_argument(
        "--sweep",
        default="1,4,8,16",
        help="comma-separated concurrencies for a short latency sweep ('' to skip)",
    )


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    sweep = [int(x) for x in args.sweep.split(",") if x.strip()]
    return run(
        concurrency=args.concurrency,
        users=args.users,
        duration=args.duration,
        rounds=args.rounds,
        sweep=sweep,
        sweep_duration=min(args.duration, 2.0),
    )


if __name__ == "__main__":
    main()
