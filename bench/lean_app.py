"""The lean baseline: timetrack's hot requests with nothing but Starlette and psycopg 3.

It does the same work as timetrack for the load benchmark's scenarios and nothing more:
the same Ed25519 check of Discord's signature, the same round trips in the same
transactions (prepared, on a small pool of direct connections), with the statements a
lean implementation would write (a plain `SELECT ... FOR UPDATE` locks a user it knows
exists; each answer reads only its columns), the same card and the same REST fields,
written with the standard `json`. Its CPU per request is the yardstick for timetrack's
own: what is left above it is what timetrack's layers cost.

    DISCORD_PUBLIC_KEY=<hex> DATABASE_URL=postgresql://... \
        python -m uvicorn bench.lean_app:app --port 8002

It serves `/api/discord` (`/session status`, and the Pause and Resume buttons),
`GET /api/timelogs/current/` and `POST /api/timelogs/{id}/pause/` and `.../resume/`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from psycopg.types.json import Jsonb
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.timing import session_times
from server.integrations.discord import views

VERIFY_KEY = VerifyKey(bytes.fromhex(os.environ["DISCORD_PUBLIC_KEY"]))
DATABASE_URL = os.environ["DATABASE_URL"]
POOL_SIZE = 10
MAX_AGE_SECONDS = 300
NOTHING_TRACKED = "You are not tracking anything right now. Start with `/session in`."

CARD_COLUMNS = (
    "s.id, s.user_id, s.status, s.goal, s.started_at, s.ended_at, s.pause_started_at, "
    "s.total_paused_seconds, s.effective_override_seconds, s.stop_reason, s.github_repo, "
    "s.github_issue_number, s.github_issue_url, subjects.name"
)
REST_COLUMNS = CARD_COLUMNS + ", s.note, s.source, s.created_at, s.updated_at"
FROM = "FROM sessions AS s JOIN subjects ON subjects.id = s.subject_id"
ACTIVE_CARD = f"SELECT {CARD_COLUMNS} {FROM} WHERE s.user_id = %s AND s.ended_at IS NULL"
CARD_BY_ID = f"SELECT {CARD_COLUMNS} {FROM} WHERE s.id = %s"
ACTIVE_REST = f"SELECT {REST_COLUMNS} {FROM} WHERE s.user_id = %s AND s.ended_at IS NULL"
REST_BY_ID = f"SELECT {REST_COLUMNS} {FROM} WHERE s.id = %s"
LOCK_USER = "SELECT id FROM users WHERE id = %s FOR UPDATE"
PAUSE = (
    "UPDATE sessions SET status = 'PAUSED', pause_started_at = %s, updated_at = %s WHERE id = %s"
)
RESUME = (
    "UPDATE sessions SET status = 'RUNNING', total_paused_seconds = %s, pause_started_at = NULL,"
    " updated_at = %s WHERE id = %s"
)
RECORD = (
    "INSERT INTO processed_events (kind, event_id, status_code, succeeded, response, created_at)"
    " VALUES ('discord_interaction', %s, 200, true, %s, %s)"
    " ON CONFLICT (kind, event_id) DO NOTHING RETURNING id"
)
USE_API_KEY = (
    "WITH used AS (UPDATE api_tokens SET last_used_at = %s"
    " WHERE token_hash = %s AND revoked_at IS NULL RETURNING user_id)"
    " SELECT users.id, users.username, users.timezone, users.github_login, users.created_at"
    " FROM users JOIN used ON used.user_id = users.id"
)


class Subject:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Row:
    """A session as the card and the REST body read it (attribute names as the model's)."""

    __slots__ = (
        "created_at",
        "effective_override_seconds",
        "ended_at",
        "github_issue_number",
        "github_issue_url",
        "github_repo",
        "goal",
        "id",
        "note",
        "pause_started_at",
        "source",
        "started_at",
        "status",
        "stop_reason",
        "subject",
        "total_paused_seconds",
        "updated_at",
        "user_id",
    )

    def __init__(self, values: tuple[Any, ...]) -> None:
        (
            self.id,
            self.user_id,
            self.status,
            self.goal,
            self.started_at,
            self.ended_at,
            self.pause_started_at,
            self.total_paused_seconds,
            self.effective_override_seconds,
            self.stop_reason,
            self.github_repo,
            self.github_issue_number,
            self.github_issue_url,
            name,
            *rest,
        ) = values
        self.subject = Subject(name)
        if rest:
            self.note, self.source, self.created_at, self.updated_at = rest


class Pool:
    """A fixed set of connections, like timetrack's (10, no overflow)."""

    def __init__(self) -> None:
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(POOL_SIZE):
            self.idle.put_nowait(await psycopg.AsyncConnection.connect(DATABASE_URL))

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        conn = await self.idle.get()
        try:
            async with conn.transaction():
                yield conn
        finally:
            self.idle.put_nowait(conn)


pool = Pool()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, media_type="application/json")


async def fetch(conn: psycopg.AsyncConnection[Any], sql: str, *values: Any) -> Row | None:
    row = await (await conn.execute(sql, values, prepare=True)).fetchone()
    return None if row is None else Row(row)


async def status_card(conn: psycopg.AsyncConnection[Any], user_id: str) -> dict[str, Any]:
    session = await fetch(conn, ACTIVE_CARD, user_id)
    if session is None:
        return views.reply(views.notice_message(NOTHING_TRACKED))
    return views.reply(views.session_card(session, now()))  # type: ignore[arg-type]


async def toggle(
    conn: psycopg.AsyncConnection[Any], user_id: str, session_id: int, action: str, by_id: str
) -> tuple[Row | None, str | None]:
    """Lock the user, read the session, pause or resume it: the domain's rules, inline."""
    await conn.execute(LOCK_USER, (user_id,), prepare=True)
    session = await fetch(conn, by_id, session_id)
    if session is None or session.user_id != user_id:
        return None, "No session with that id."
    at = now()
    if action == "pause":
        if session.status == "PAUSED":
            return session, "Already paused."
        await conn.execute(PAUSE, (at, at, session_id), prepare=True)
        session.status, session.pause_started_at = "PAUSED", at
    else:
        if session.status == "RUNNING":
            return session, "Already running."
        paused = session_times(session, at).paused  # type: ignore[arg-type]
        await conn.execute(RESUME, (paused, at, session_id), prepare=True)
        session.status, session.total_paused_seconds = "RUNNING", paused
        session.pause_started_at = None
    session.updated_at = at
    return session, None


def verified(request: Request, body: bytes) -> bool:
    signature = request.headers.get("x-signature-ed25519")
    timestamp = request.headers.get("x-signature-timestamp")
    if not signature or not timestamp or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if len(timestamp) > 12 or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    try:
        VERIFY_KEY.verify(timestamp.encode() + body, bytes.fromhex(signature))
    except (CryptoError, ValueError, TypeError):
        return False
    return True


async def discord(request: Request) -> Response:
    body = await request.body()
    if not verified(request, body):
        return answer({"error": "unauthorized", "detail": "Invalid Discord signature."}, 401)
    interaction = json.loads(body)
    if interaction["type"] == 1:
        return answer({"type": views.PONG})
    user_id = interaction["member"]["user"]["id"]
    async with pool.transaction() as conn:
        if interaction["type"] == 2:
            response = await status_card(conn, user_id)
        else:
            action, _, ref = interaction["data"]["custom_id"].partition(":")
            session, notice = await toggle(conn, user_id, int(ref), action, CARD_BY_ID)
            if session is None:
                response = views.reply(views.error_message(notice or ""))
            else:
                card = views.session_card(session, now(), notice=notice)  # type: ignore[arg-type]
                response = views.update(card)
        record = (interaction["id"], Jsonb(response), now())
        await (await conn.execute(RECORD, record, prepare=True)).fetchone()
    return answer(response)


def rest_body(session: Row, at: datetime) -> dict[str, Any]:
    times = session_times(session, at)  # type: ignore[arg-type]

    def iso(instant: datetime | None) -> str | None:
        return None if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "id": session.id,
        "subject": session.subject.name,
        "goal": session.goal,
        "note": session.note,
        "status": session.status,
        "is_paused": session.status == "PAUSED",
        "source": session.source,
        "started_at": iso(session.started_at),
        "ended_at": iso(session.ended_at),
        "pause_started_at": iso(session.pause_started_at),
        "paused_seconds": times.paused,
        "measured_seconds": times.measured,
        "effective_seconds": times.effective,
        "effective_override_seconds": session.effective_override_seconds,
        "active_duration": float(times.effective),
        "github_repo": session.github_repo,
        "github_issue_number": session.github_issue_number,
        "github_issue_url": session.github_issue_url,
        "stop_reason": session.stop_reason,
        "created_at": iso(session.created_at),
        "updated_at": iso(session.updated_at),
    }


async def token_user(conn: psycopg.AsyncConnection[Any], request: Request) -> str | None:
    scheme, _, plain = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in {"token", "bearer"} or not plain.startswith("tt_"):
        return None
    digest = hashlib.sha256(plain.encode()).hexdigest()
    found = await (await conn.execute(USE_API_KEY, (now(), digest), prepare=True)).fetchone()
    return None if found is None else str(found[0])


async def current(request: Request) -> Response:
    async with pool.transaction() as conn:
        user_id = await token_user(conn, request)
        if user_id is None:
            return answer({"error": "unauthorized", "detail": "Unknown token."}, 401)
        session = await fetch(conn, ACTIVE_REST, user_id)
    if session is None:
        return Response(status_code=204)
    return answer(rest_body(session, now()))


async def act(request: Request) -> Response:
    action = request.path_params["action"]
    async with pool.transaction() as conn:
        user_id = await token_user(conn, request)
        if user_id is None:
            return answer({"error": "unauthorized", "detail": "Unknown token."}, 401)
        session_id = int(request.path_params["session_id"])
        session, notice = await toggle(conn, user_id, session_id, action, REST_BY_ID)
    if session is None:
        return answer({"error": "not_found", "detail": notice}, 404)
    if notice is not None:
        return answer({"error": "conflict", "detail": notice}, 409)
    return answer(rest_body(session, now()))


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/api/discord", discord, methods=["POST"]),
        Route("/api/timelogs/current/", current, methods=["GET"]),
        Route("/api/timelogs/{session_id:int}/{action:str}/", act, methods=["POST"]),
    ],
    lifespan=lifespan,
)
