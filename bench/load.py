"""Throughput, latency and CPU per request under concurrent load, against the lean baseline.

Servers, each a subprocess on a scratch database of its own seeded with the same users
(each with an API token and a running session; one set of users for the Discord
scenarios, another for REST, so no scenario finds its sessions changed by another):

- `timetrack`: `timetrack serve --workers 1`, and `timetrack xN` with N workers;
- `lean`: bench.lean_app, the same statements and answers with Starlette and psycopg only;
- `before` (with `--before DIR`): another copy of the project, for before-and-after runs;
- `bare`: bench.bare_app, which only checks the signature (for scale).

An asyncio + httpx generator keeps `concurrency` requests in flight (closed loop) for
`duration` seconds per scenario and server:

- `status`: signed `/session status` commands;
- `clicks`: signed button clicks on the users' real sessions, pressing the card's first
  button each time (Pause, then Resume, ...);
- `rest`: `GET /api/timelogs/current/`, then `POST .../pause/` or `.../resume/`, in turn.

Every scenario runs on every server within each round, over several rounds, so a burst of
load from elsewhere on the machine hits all of them alike; the ratios to the lean baseline
are taken within a round. Besides latency and throughput it reports the CPU each request
cost in the server (its processes, workers included), in PostgreSQL (the backends serving
the server's database, summed pid by pid) and in the load generator. Each client has its
own keep-alive connection. Loopback only; it stops by itself. A short latency sweep over
lower concurrencies follows, on timetrack with one worker.

    python -m bench.load [--concurrency 32] [--users 32] [--duration 3] [--rounds 3]
                         [--sweep 1,4,8,16] [--workers 1,2] [--before DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.db import libpq_url
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


def seed(url: str, count: int) -> list[BenchUser]:
    """`count` users, each with an API token and a running session.

    Plain SQL, so that any copy of the project's schema can be seeded the same way.
    """
    users: list[BenchUser] = []
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(libpq_url(url)) as conn:
        for n in range(count):
            user_id = str(USER_BASE + n)
            plain = "tt_" + secrets.token_urlsafe(32)
            conn.execute(
                "INSERT INTO users (id, username, timezone) VALUES (%s, %s, 'UTC')",
                (user_id, f"bench{n}"),
            )
            conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash) VALUES (%s, 'bench', %s)",
                (user_id, hashlib.sha256(plain.encode()).hexdigest()),
            )
            subject = conn.execute(
                "INSERT INTO subjects (user_id, name) VALUES (%s, %s) RETURNING id",
                (user_id, f"Subject {n % 3}"),
            ).fetchone()
            session = conn.execute(
                "INSERT INTO sessions (user_id, subject_id, started_at, goal, status, source,"
                " created_at, updated_at) VALUES (%s, %s, %s, 'load test', 'RUNNING', 'discord',"
                " %s, %s) RETURNING id",
                (user_id, subject[0] if subject else None, now, now, now),
            ).fetchone()
            users.append(BenchUser(user_id, plain, session[0] if session else 0))
        conn.execute("ANALYZE")
    return users


@dataclass
class Target:
    """A server under test, the users seeded in its database, and its scenarios."""

    name: str
    served: servers.Served
    scenarios: dict[str, Scenario]
    clients: Clients | None = None

    def cpu(self) -> tuple[float, dict[int, float]]:
        return self.served.cpu_seconds(), self.served.database_cpu()

    async def run(self, scenario: str, *, concurrency: int, duration: float) -> Measured:
        assert self.clients is not None
        return await run_scenario(
            self.clients,
            self.scenarios[scenario],
            concurrency=concurrency,
            duration=duration,
            cpu=self.cpu,
        )


SCENARIOS = ("status", "clicks", "rest")
RATIOS = ("server_cpu_ms_per_request", "database_cpu_ms_per_request", "throughput_rps", "p99_ms")


def _scenarios(signer: interactions.Signer, users: list[BenchUser]) -> dict[str, Scenario]:
    half = len(users) // 2
    discord_users, rest_users = users[:half], users[half:]
    return {
        "status": StatusCommands(signer, discord_users),
        "clicks": PauseResumeClicks(signer, discord_users),
        # Users of their own, so neither scenario finds its sessions changed by the other.
        "rest": RestCalls(signer, rest_users),
    }


async def _drive(
    targets: list[Target],
    bare: Target,
    *,
    concurrency: int,
    duration: float,
    rounds: int,
    sweep: list[int],
    sweep_duration: float,
) -> dict[str, Any]:
    """Every scenario on every server, in turn, round after round.

    The order of the servers rotates from round to round, so that neither always runs
    right after the other; ratios to the lean baseline are taken within a round.
    """
    totals = {(t.name, s): Totals(s) for t in targets for s in t.scenarios}
    totals[(bare.name, "status")] = Totals("status")
    per_round: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
    sweep_results: list[dict[str, Any]] = []
    most = max([concurrency, *sweep])
    for target in [*targets, bare]:
        target.clients = Clients(target.served.base_url, most)
    try:
        # Warm each: connections, the pool, caches of compiled and prepared statements.
        for target in targets:
            for scenario in target.scenarios:
                await target.run(scenario, concurrency=concurrency, duration=min(duration, 1.0))
        for round_number in range(rounds):
            order = targets[round_number % len(targets) :] + targets[: round_number % len(targets)]
            measured: dict[tuple[str, str], Measured] = {}
            run = await bare.run("status", concurrency=concurrency, duration=duration)
            totals[(bare.name, "status")].runs.append(run)
            for scenario in SCENARIOS:
                for target in order:
                    run = await target.run(scenario, concurrency=concurrency, duration=duration)
                    measured[(target.name, scenario)] = run
                    totals[(target.name, scenario)].runs.append(run)
            for target in targets:
                per_round[target.name].append(
                    {s: Totals(s, [measured[(target.name, s)]]).figures() for s in SCENARIOS}
                )
            print(
                f"  round {round_number + 1}/{rounds} (load {load_average()[0]}): "
                + "; ".join(
                    f"{t.name} "
                    + " ".join(f"{measured[(t.name, s)].throughput:.0f}/s" for s in SCENARIOS)
                    for t in targets
                ),
                flush=True,
            )
        for level in sweep:
            for name in ("status", "clicks"):
                run = await targets[0].run(name, concurrency=level, duration=sweep_duration)
                figures = Totals(name, [run]).figures()
                sweep_results.append(
                    {
                        key: figures[key]
                        for key in ("scenario", "concurrency", "throughput_rps", "p50_ms", "p99_ms")
                    }
                )
    finally:
        for target in [*targets, bare]:
            if target.clients is not None:
                await target.clients.aclose()
    servers_figures = {
        t.name: {s: totals[(t.name, s)].figures() for s in t.scenarios} for t in targets
    }
    servers_figures[bare.name] = {"status": totals[(bare.name, "status")].figures()}
    return {
        "concurrency": concurrency,
        "users": len(targets[0].scenarios["status"].users),
        "duration_s": duration,
        "rounds": rounds,
        "servers": servers_figures,
        "ratios": _ratios(per_round),
        "sweep": sweep_results,
    }


def _ratios(per_round: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each server's figures over the lean baseline's, per round and their median."""
    lean_rounds = per_round.get("lean")
    if not lean_rounds:
        return {}
    ratios: dict[str, Any] = {}
    for name, rounds in per_round.items():
        if name == "lean":
            continue
        ratios[name] = {}
        for scenario in SCENARIOS:
            ratios[name][scenario] = {}
            for key in RATIOS:
                values = [
                    mine[scenario][key] / lean[scenario][key]
                    for mine, lean in zip(rounds, lean_rounds, strict=True)
                    if lean[scenario][key]
                ]
                ratios[name][scenario][key] = {
                    "per_round": [round(v, 3) for v in values],
                    "median": round(statistics.median(values), 3) if values else 0.0,
                }
    return ratios


def run(
    *,
    concurrency: int = 32,
    users: int = 32,
    duration: float = 3.0,
    rounds: int = 3,
    sweep: list[int] | None = None,
    sweep_duration: float = 2.0,
    workers: list[int] | None = None,
    before: Path | None = None,
) -> dict[str, Any]:
    """timetrack (with each number of `workers`), the lean baseline, the bare endpoint and,
    given `before`, that copy of the project, each on a database of its own."""
    signer = interactions.Signer()
    workers = workers or [1]
    with contextlib.ExitStack() as stack:
        targets: list[Target] = []

        def add(name: str, tree: Path, serve: Callable[[str], Any]) -> None:
            url = stack.enter_context(scratch_database(name.replace(" ", "_"), tree))
            seeded = seed(url, 2 * users)
            served = stack.enter_context(serve(url))
            targets.append(Target(name, served, _scenarios(signer, seeded)))

        for count in workers:
            name = "timetrack" if count == 1 else f"timetrack x{count}"
            add(
                name,
                servers.ROOT,
                lambda url, n=count, name=name: servers.timetrack(
                    name, url, signer.public_hex, workers=n
                ),
            )
        add("lean", servers.ROOT, lambda url: servers.lean(url, signer.public_hex))
        if before is not None:
            add(
                "before",
                before,
                lambda url: servers.timetrack(
                    "before", url, signer.public_hex, workers=None, tree=before
                ),
            )
        bare_served = stack.enter_context(servers.bare(signer.public_hex))
        bare_scenarios = {"status": StatusCommands(signer, targets[0].scenarios["status"].users)}
        bare = Target("bare", bare_served, bare_scenarios)
        results = asyncio.run(
            _drive(
                targets,
                bare,
                concurrency=concurrency,
                duration=duration,
                rounds=rounds,
                sweep=sweep or [],
                sweep_duration=sweep_duration,
            )
        )
        for target in targets:
            failed = sum(
                count
                for figures in results["servers"][target.name].values()
                for status, count in figures["statuses"].items()
                if status == "0" or int(status) >= 500
            )
            if failed:
                print(f"  {target.name}: {failed} failed requests; log tail:")
                print(target.served.log_tail())
    results["workers"] = workers
    return results


def print_results(results: dict[str, Any]) -> None:
    print(
        f"\nload: {results['concurrency']} concurrent clients, {results['users']} users, "
        f"{results['rounds']} rounds of {results['duration_s']} s per scenario and server"
    )
    print(
        f"  {'server':<13} {'scenario':<8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv cpu':>8} {'db cpu':>7} {'gen cpu':>8}  answers"
    )
    for server, scenarios in results["servers"].items():
        for name, f in scenarios.items():
            answers = ", ".join(f"{k}: {v}" for k, v in f["answers"].items())
            print(
                f"  {server:<13} {name:<8} {f['throughput_rps']:>7.1f} {f['p50_ms']:>7.1f} "
                f"{f['p99_ms']:>7.1f} {f['server_cpu_ms_per_request']:>6.2f}ms "
                f"{f['database_cpu_ms_per_request']:>5.2f}ms "
                f"{f['client_cpu_ms_per_request']:>6.2f}ms  {answers}"
            )
    labels = {
        "server_cpu_ms_per_request": "server CPU",
        "database_cpu_ms_per_request": "PostgreSQL CPU",
        "throughput_rps": "throughput",
        "p99_ms": "p99",
    }
    for server, scenarios in results["ratios"].items():
        print(f"  {server} / lean (median of the rounds' ratios):")
        for name, figures in scenarios.items():
            cells = ", ".join(f"{labels[k]} {figures[k]['median']:.2f}" for k in RATIOS)
            print(f"    {name:<7} {cells}")
    workers = results.get("workers", [1])
    if len(workers) > 1:
        one = results["servers"]["timetrack"]
        for count in workers[1:]:
            many = results["servers"][f"timetrack x{count}"]
            cells = ", ".join(
                f"{s} {many[s]['throughput_rps'] / max(one[s]['throughput_rps'], 0.1):.2f}x"
                for s in SCENARIOS
            )
            print(
                f"  {count} workers / 1 worker, throughput: {cells}"
                " (the load generator shares the same cores)"
            )
    if results["sweep"]:
        print("  concurrency sweep (timetrack):")
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
    parser.add_argument(
        "--workers",
        default="1,2",
        help="comma-separated numbers of `timetrack serve` workers, each a server of its own",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="another copy of the project, served in the same rounds (before and after)",
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
        workers=[int(x) for x in args.workers.split(",") if x.strip()],
        before=args.before.resolve() if args.before is not None else None,
    )


if __name__ == "__main__":
    main()
