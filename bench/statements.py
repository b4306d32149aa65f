"""SQL statements, transactions and round trips per mutating interaction.

The app runs in process (httpx over ASGI) on a scratch database. psycopg itself is
watched, so every statement sent counts, whether SQLAlchemy sent it or a repository did
(SAVEPOINT and RELEASE included), and so does every transaction committed or rolled back.
psycopg sends BEGIN as a round trip of its own and COMMIT is one too, so

    round trips = statements + BEGINs + COMMITs + ROLLBACKs.

Each sequence runs twice with different users; the second pass is the one reported (the
first also warms the pool), and a difference between passes is flagged.

    python -m bench.statements [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from app import accounts
from app.config import get_settings
from app.db import database
from bench import interactions
from bench.common import scratch_database

TARGET_STATEMENTS = 4


@dataclass
class Tally:
    statements: list[str] = field(default_factory=list)
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0

    @property
    def savepoints(self) -> int:
        return sum(1 for s in self.statements if s.split()[0].upper() in {"SAVEPOINT", "RELEASE"})

    @property
    def round_trips(self) -> int:
        return len(self.statements) + self.begins + self.commits + self.rollbacks

    def figures(self) -> dict[str, Any]:
        return {
            "statements": len(self.statements),
            "of_which_savepoints": self.savepoints,
            "transactions": self.begins,
            "commits": self.commits,
            "rollbacks": self.rollbacks,
            "round_trips": self.round_trips,
            "sql": [s.split("\n")[0][:90] for s in self.statements],
        }


class Counter:
    """Counts what psycopg sends: every statement, whether SQLAlchemy or a repository sent
    it, and every transaction it ends (a COMMIT or ROLLBACK of a transaction psycopg began
    with a BEGIN of its own)."""

    def __init__(self) -> None:
        self.current = Tally()
        counter = self
        execute, commit, rollback = (
            psycopg.AsyncCursor.execute,
            psycopg.AsyncConnection.commit,
            psycopg.AsyncConnection.rollback,
        )

        async def counted_execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query if isinstance(query, str) else query.as_string(cursor)
            counter.current.statements.append(" ".join(text.split()))
            return await execute(cursor, query, *args, **kwargs)

        async def counted_commit(conn: psycopg.AsyncConnection[Any]) -> None:
            if counter._in_transaction(conn):
                counter.current.begins += 1
                counter.current.commits += 1
            await commit(conn)

        async def counted_rollback(conn: psycopg.AsyncConnection[Any]) -> None:
            if counter._in_transaction(conn):
                counter.current.begins += 1
                counter.current.rollbacks += 1
            await rollback(conn)

        psycopg.AsyncCursor.execute = counted_execute  # type: ignore[method-assign]
        psycopg.AsyncConnection.commit = counted_commit  # type: ignore[method-assign]
        psycopg.AsyncConnection.rollback = counted_rollback  # type: ignore[method-assign]

    @staticmethod
    def _in_transaction(conn: psycopg.AsyncConnection[Any]) -> bool:
        status = conn.info.transaction_status
        return status in (
            psycopg.pq.TransactionStatus.INTRANS,
            psycopg.pq.TransactionStatus.INERROR,
        )

    def start(self) -> None:
        self.current = Tally()


@dataclass
class Driver:
    http: httpx.AsyncClient
    signer: interactions.Signer
    counter: Counter
    results: dict[str, Tally] = field(default_factory=dict)

    async def measure(self, name: str, call: Callable[[], Awaitable[httpx.Response]]) -> Any:
        self.counter.start()
        response = await call()
        self.results[name] = self.counter.current
        if response.status_code >= 400:
            raise RuntimeError(f"{name}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    async def discord(self, name: str, payload: dict[str, Any]) -> Any:
        body, headers = self.signer.sign(payload)
        answer = await self.measure(
            name, lambda: self.http.post("/api/discord", content=body, headers=headers)
        )
        if answer.get("data", {}).get("flags", 0) & 64:
            raise RuntimeError(f"{name}: private answer {answer}")
        return answer

    async def rest(self, name: str, method: str, path: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Token {token}"}
        return await self.measure(
            name, lambda: self.http.request(method, path, headers=headers, **kwargs)
        )


def _session_id(card: dict[str, Any]) -> int:
    first = card["data"]["components"][0]["components"][0]["custom_id"]
    return int(first.partition(":")[2])


async def _sequence(driver: Driver, discord_user: str, rest_token: str) -> None:
    card = await driver.discord(
        "discord /session in",
        interactions.command("session in", discord_user, subject="Statements", purpose="count"),
    )
    session_id = _session_id(card)
    await driver.discord(
        "discord /session status", interactions.command("session status", discord_user)
    )
    await driver.discord("discord pause", interactions.click(f"pause:{session_id}", discord_user))
    await driver.discord(
        "discord /session resume", interactions.command("session resume", discord_user)
    )
    await driver.discord(
        "discord /session pause", interactions.command("session pause", discord_user)
    )
    await driver.discord("discord resume", interactions.click(f"resume:{session_id}", discord_user))
    await driver.discord("discord /session out", interactions.command("session out", discord_user))
    await driver.discord(
        "discord adjust modal",
        interactions.submit(f"adjust_time:{session_id}", {"duration": "1h 5m"}, discord_user),
    )
    await driver.discord(
        "discord confirm", interactions.click(f"confirm:{session_id}", discord_user)
    )

    started = await driver.rest(
        "REST start", "POST", "/api/timelogs/start/", rest_token, json={"subject": "Statements"}
    )
    rest_id = started["id"]
    await driver.rest("REST current", "GET", "/api/timelogs/current/", rest_token)
    await driver.rest("REST pause", "POST", f"/api/timelogs/{rest_id}/pause/", rest_token)
    await driver.rest("REST resume", "POST", f"/api/timelogs/{rest_id}/resume/", rest_token)
    await driver.rest("REST stop", "POST", f"/api/timelogs/{rest_id}/stop/", rest_token)
    await driver.rest("REST confirm", "POST", f"/api/timelogs/{rest_id}/confirm/", rest_token)


READ_ONLY = {"discord /session status", "REST current"}


async def _run(url: str) -> dict[str, Any]:
    database.configure(url)
    try:
        from server.router import app

        logging.getLogger("timetrack.request").setLevel(logging.WARNING)  # one line a request
        signer = interactions.Signer()
        os.environ["DISCORD_PUBLIC_KEY"] = signer.public_hex
        get_settings.cache_clear()
        tokens = []
        async with database.sessions() as db, db.begin():
            for n in range(2):
                tokens.append((await accounts.create_api_token(db, f"statements-rest-{n}"))[1])
        counter = Counter()
        transport = httpx.ASGITransport(app=app)
        passes: list[dict[str, Tally]] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await http.get("/api/health")
            for n in range(2):
                driver = Driver(http, signer, counter)
                await _sequence(driver, str(1_950_000_000_000_000_000 + n), tokens[n])
                passes.append(driver.results)
    finally:
        await database.dispose()
    first, second = passes
    results: dict[str, Any] = {}
    for name, tally in second.items():
        figures = tally.figures()
        figures["mutating"] = name not in READ_ONLY
        figures["stable"] = first[name].figures()["statements"] == figures["statements"]
        results[name] = figures
    return results


def run() -> dict[str, Any]:
    saved = os.environ.get("DISCORD_PUBLIC_KEY")
    try:
        with scratch_database("statements") as url:
            return asyncio.run(_run(url))
    finally:
        if saved is None:
            os.environ.pop("DISCORD_PUBLIC_KEY", None)
        else:
            os.environ["DISCORD_PUBLIC_KEY"] = saved
        get_settings.cache_clear()


def print_results(results: dict[str, Any], *, verbose: bool = False) -> None:
    print("\nSQL per interaction (target for mutating ones: <= 4 statements, 1 transaction)")
    columns = ("statements", "savepoints", "txns", "round trips")
    print(f"  {'interaction':<24} " + " ".join(f"{c:>11}" for c in columns))
    for name, f in results.items():
        flag = "" if f["stable"] else "  (differs from the first pass)"
        kind = "" if f["mutating"] else "  (read only)"
        print(
            f"  {name:<24} {f['statements']:>11} {f['of_which_savepoints']:>11} "
            f"{f['transactions']:>11} {f['round_trips']:>11}{kind}{flag}"
        )
        if verbose:
            for sql in f["sql"]:
                print(f"      {sql}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="print each statement")
    args = parser.parse_args(argv)
    results = run()
    print_results(results, verbose=args.verbose)
    return results


if __name__ == "__main__":
    main()
