"""One structured line per request, with nothing in it that could sign anyone in.

The line is a JSON object written through the stdlib logger `timetrack.request`:
method, route template, status, duration and, when known, a keyed hash of the user id.
It never holds the raw path (`/login/<token>` carries a sign-in token), the query
string, headers, cookies or bodies.

Auth code tells the log who the caller is with `identify(request, user_id)`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import Message, Receive, Scope, Send

from app.config import ConfigError, Settings, get_settings
from server.asgi import HttpMiddleware

logger = logging.getLogger("timetrack.request")

STATE_KEY = "user_id"
UNMATCHED = "<unmatched>"
HASH_LENGTH = 12

# Hosts that send INFO to their log store (Vercel sets the root logger to INFO) would also
# keep what these libraries log at INFO: httpx logs every URL, and Discord's follow-up URLs
# embed the interaction token; SQLAlchemy, seeing INFO enabled, logs every statement with
# its parameters, which include stored answers such as a sign-in link.
QUIET_LOGGERS = ("httpx", "httpcore", "sqlalchemy")


def identify(request: Request, user_id: str) -> None:
    """Record who the caller is, for the request log (which only ever shows a hash)."""
    request.state.user_id = user_id


def route_template(scope: Scope) -> str:
    """`/api/timelogs/{id}/pause/`, never `/api/timelogs/42/pause/`; unmatched paths hide."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class _UserHasher:
    """HMAC of the user id under a key derived from the signing key, derived once."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._key: bytes | None = None

    def _derive(self) -> bytes | None:
        settings = get_settings()
        if settings is not self._settings:
            try:
                secret = settings.signing_key().encode()
            except (ConfigError, OSError):
                return None
            # A key of its own, so these hashes reveal nothing about cookies or state tokens.
            self._key = hmac.new(secret, b"timetrack request log", hashlib.sha256).digest()
            self._settings = settings
        return self._key

    def __call__(self, user_id: str) -> str | None:
        key = self._derive()
        if key is None:
            return None
        return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


hash_user = _UserHasher()


class RequestLogMiddleware(HttpMiddleware):
    """One line per request, written once the answer has been handed on."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        started = time.perf_counter()

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        # Errors are answered inside this middleware (`server.errors`), so the status sent is
        # the one logged; 500 stays only if something escapes even that.
        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            line: dict[str, Any] = {
                "method": scope.get("method", ""),
                "route": route_template(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            user_id = state.get(STATE_KEY)
            if isinstance(user_id, str) and user_id:
                line["user"] = hash_user(user_id)
            logger.info(json.dumps(line, separators=(",", ":")))


def install(app: FastAPI) -> None:
    """Add the middleware; make sure its INFO lines are emitted somewhere."""
    app.add_middleware(RequestLogMiddleware)
    logger.setLevel(logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Hosts that collect logs (Vercel, pytest) configure the root logger; a bare
    # `timetrack serve` does not, so the lines would vanish without a handler here.
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
