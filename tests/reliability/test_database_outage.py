"""The database goes away mid-run and comes back: answers stay honest, nothing acknowledged is lost.

A dedicated embedded PostgreSQL runs in a temporary data directory for this module. The app
is pointed at it with one engine, and clients keep clocking in and out through REST and
Discord while the server is stopped (SIGINT to the postmaster, a fast shutdown) and then
started again with `app.db.start_embedded`. During the outage Discord answers with the
private "unavailable" message, REST with 503 `{"error": "unavailable"}` and health with
503. Afterwards the same app object and engine work again, and every change a client was
told succeeded (a 2xx, or a session card) is in the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app import accounts, migrate
from app.db import create_engine, database, sqlalchemy_url
from app.models import Session, SessionStatus
from server.errors import DATABASE_DOWN as REST_DATABASE_DOWN
from server.integrations.discord.router import DATABASE_DOWN
from tests.discord.support import Signer, card_session_id, command, is_ephemeral

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "timetrack_outage"
REST_USERS = ["2200000000000000001", "2200000000000000002", "2200000000000000003"]
DISCORD_USERS = ["2200000000000000011", "2200000000000000012"]
ENDED = (SessionStatus.ENDED_UNCONFIRMED, SessionStatus.ENDED_CONFIRMED)
# Generous bounds so a wedged run fails instead of hanging; nothing is asserted on time.
PHASE_LIMIT = 90.0

START_SERVER = (
    "import sys; from pathlib import Path; from app.db import start_embedded; "
    "print(start_embedded(Path(sys.argv[1]), sys.argv[2]))"
)


@dataclass
class EmbeddedServer:
    data_dir: Path
    url: str = ""

    def start(self) -> None:
        """Start (or restart) the server from a fresh process, as `timetrack` itself would."""
        done = subprocess.run(
            [sys.executable, "-c", START_SERVER, str(self.data_dir), DATABASE],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        self.url = sqlalchemy_url(done.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        """SIGINT to the postmaster (PostgreSQL's fast shutdown), then wait for it to exit."""
        pid_file = self.data_dir / "pgdata" / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        try:
            postmaster = psutil.Process(pid)
            os.kill(pid, signal.SIGINT)
            postmaster.wait(timeout=60)
        except psutil.NoSuchProcess:
            pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    embedded = EmbeddedServer(tmp_path_factory.mktemp("outage") / "data")
    embedded.start()
    try:
        migrate.upgrade(embedded.url)
        yield embedded
    finally:
        embedded.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def outage_engine(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    """The app's database swapped for the dedicated server, for this test only."""
    engine = create_engine(server.url)
    monkeypatch.setattr(database, "_engine", engine)
    monkeypatch.setattr(database, "_sessions", async_sessionmaker(engine, expire_on_commit=False))
    yield engine
    await engine.dispose()  # monkeypatch then puts the suite's engine back


@dataclass
class Acknowledged:
    """What clients were told: sessions started, and sessions ended."""

    started: set[int] = field(default_factory=set)
    ended: set[int] = field(default_factory=set)
    refusals: dict[str, int] = field(default_factory=dict)

    def refused(self, kind: str) -> None:
        self.refusals[kind] = self.refusals.get(kind, 0) + 1

    @property
    def count(self) -> int:
        return len(self.started) + len(self.ended)


class Clients:
    """REST and Discord users clocking in and out in a loop until told to stop."""

    def __init__(self, http: httpx.AsyncClient, signer: Signer, tokens: dict[str, str]) -> None:
        self.http, self.signer, self.tokens = http, signer, tokens
        self.ack = Acknowledged()
        self.stopping = asyncio.Event()
        self.answered = asyncio.Event()  # set after every answer, for `until`

    async def _pace(self) -> None:
        self.answered.set()
        await asyncio.sleep(0.005)  # a refused connection fails at once; don't spin

    async def until(self, condition: Any, what: str) -> None:
        async def wait() -> None:
            while not condition():
                self.answered.clear()
                await self.answered.wait()

        try:
            await asyncio.wait_for(wait(), PHASE_LIMIT)
        except TimeoutError:
            pytest.fail(f"gave up waiting for {what}")

    async def rest_user(self, user: str) -> None:
        headers = {"Authorization": f"Token {self.tokens[user]}"}
        active: int | None = None
        while not self.stopping.is_set():
            if active is None:
                body = {"subject": "outage", "goal": "keep going"}
                response = await self.http.post("/api/timelogs/start/", json=body, headers=headers)
                if response.status_code == 201:
                    active = response.json()["id"]
                    self.ack.started.add(active)
                elif response.status_code == 409:
                    # A start may have committed although its answer was lost: find it.
                    current = await self.http.get("/api/timelogs/current/", headers=headers)
                    if current.status_code == 200:
                        active = current.json()["id"]
                else:
                    self._outage_answer(response)
            else:
                response = await self.http.post(f"/api/timelogs/{active}/stop/", headers=headers)
                if response.status_code == 200:
                    self.ack.ended.add(active)
                    active = None
                elif response.status_code == 409:
                    active = None  # it had been stopped by a request whose answer was lost
                else:
                    self._outage_answer(response)
            await self._pace()

    def _outage_answer(self, response: httpx.Response) -> None:
        assert response.status_code == 503, response.text
        assert response.json() == {"error": "unavailable", "detail": REST_DATABASE_DOWN}
        self.ack.refused("rest")

    async def discord_user(self, user: str) -> None:
        clocking_in = True
        while not self.stopping.is_set():
            name = "session in" if clocking_in else "session out"
            values = {"subject": "outage"} if clocking_in else {}
            answer = await self._send(command(name, user, **values))
            if not is_ephemeral(answer) and answer["data"].get("embeds"):
                session_id = card_session_id(answer)
                (self.ack.started if clocking_in else self.ack.ended).add(session_id)
                clocking_in = not clocking_in
            elif DATABASE_DOWN in answer["data"]["content"]:
                self.ack.refused("discord")
            else:  # "already tracking" / "not tracking": the lost answer of a commit
                clocking_in = not clocking_in
            await self._pace()

    async def _send(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        response = await self.http.post(
            "/api/discord", content=body, headers=self.signer.headers(body)
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


@pytest.mark.usefixtures("discord_env")
async def test_an_outage_is_reported_honestly_and_loses_nothing_acknowledged(
    server: EmbeddedServer, outage_engine: AsyncEngine, http: httpx.AsyncClient, signer: Signer
) -> None:
    async with database.sessions() as db, db.begin():
        tokens = {user: (await accounts.create_api_token(db, user))[1] for user in REST_USERS}
    clients = Clients(http, signer, tokens)
    workers = [asyncio.create_task(clients.rest_user(u)) for u in REST_USERS] + [
        asyncio.create_task(clients.discord_user(u)) for u in DISCORD_USERS
    ]
    try:
        await clients.until(lambda: clients.ack.count >= 12, "changes before the outage")

        await asyncio.to_thread(server.stop)
        before_restart = clients.ack.count
        await clients.until(
            lambda: (
                clients.ack.refusals.get("rest", 0) >= 3
                and clients.ack.refusals.get("discord", 0) >= 2
            ),
            "refusals during the outage",
        )
        health = await http.get("/api/health")
        assert health.status_code == 503
        assert health.json()["database"] == "unavailable"
        current = await http.get(
            "/api/timelogs/current/", headers={"Authorization": f"Token {tokens[REST_USERS[0]]}"}
        )
        assert current.status_code == 503
        assert current.json()["error"] == "unavailable"
        status = await clients._send(command("session status", DISCORD_USERS[0]))
        assert is_ephemeral(status) and DATABASE_DOWN in status["data"]["content"]

        await asyncio.to_thread(server.start)
        await clients.until(lambda: clients.ack.count >= before_restart + 12, "changes after it")
    finally:
        clients.stopping.set()
        await asyncio.gather(*workers)

    # The same app and engine, never restarted, serve normally again.
    assert database.engine is outage_engine
    assert (await http.get("/api/health")).status_code == 200
    status = await clients._send(command("session status", DISCORD_USERS[0]))
    assert DATABASE_DOWN not in str(status)

    async with database.sessions() as db:
        stored = {
            row.id: row.status
            for row in (await db.execute(select(Session.id, Session.status))).all()
        }
    lost = clients.ack.started - stored.keys()
    assert not lost, f"acknowledged starts missing: {sorted(lost)}"
    reopened = {sid for sid in clients.ack.ended if stored[sid] not in ENDED}
    assert not reopened, f"acknowledged clock-outs not stored: {sorted(reopened)}"
