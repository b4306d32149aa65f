"""A cap on every request body, enforced while it is read and before anything parses it.

A `Content-Length` over the cap is refused before a byte of the body is read. Otherwise the
body is counted as the app reads it, and the read that passes the cap fails with 413, so no
more than the cap is ever held in memory. Routes that never read their body (a refused
sign-in, say) never pay for it at all.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.asgi import HttpMiddleware
from server.errors import error_body

KIB = 1024
MIB = 1024 * KIB
# REST bodies, the page's forms and Discord interactions are all a few kilobytes at most.
DEFAULT_MAX_BYTES = 64 * KIB
# GitHub caps a webhook delivery's payload at 25 MB. The GitHub front door is imported on
# its first request (server/router.py), so the cap on its delivery paths is stated here,
# where it is applied; tests/github/test_webhook.py holds it to the router's paths.
GITHUB_DELIVERY_MAX_BYTES = 25 * MIB
GITHUB_DELIVERY_PATHS = (
    "/api/github/webhook",
    "/api/github-timer-webhook",
    "/api/github-timer-webhook/",
)
BY_PATH = dict.fromkeys(GITHUB_DELIVERY_PATHS, GITHUB_DELIVERY_MAX_BYTES)


def describe(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size // KIB} KiB"


class BodyTooLarge(HTTPException):
    """Raised by `receive` once the body passes the cap.

    An HTTPException, so that FastAPI passes it on while it reads a route's body instead of
    calling it a parse error, and the error handlers answer it like any other.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {describe(limit)}.")


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


class BodyLimitMiddleware(HttpMiddleware):
    def __init__(
        self, app: ASGIApp, *, default: int = DEFAULT_MAX_BYTES, by_path: Mapping[str, int]
    ) -> None:
        super().__init__(app)
        self.default = default
        self.by_path = dict(by_path)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.by_path.get(scope.get("path", ""), self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(limit, scope, receive, send)
            return
        received = 0

        # Only routes read bodies, and the error handlers around them answer the exception.
        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted_receive, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        detail = BodyTooLarge(limit).detail
        response = JSONResponse(error_body("payload_too_large", detail), status_code=413)
        await response(scope, receive, send)


def install(app: FastAPI, by_path: Mapping[str, int]) -> None:
    """Cap every body at DEFAULT_MAX_BYTES, except the paths given their own cap."""
    app.add_middleware(BodyLimitMiddleware, by_path=by_path)
