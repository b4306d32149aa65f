"""One mapping from failures to `{"error", "detail"}` JSON bodies.

Expected failures (`app.errors`, HTTP errors, invalid input) are answered by exception
handlers. Anything else is answered by `UnexpectedErrorMiddleware`, which sits inside the
security headers: a 500 is then an ordinary, complete response, with the same headers as any
other, and nothing is re-raised into the server, which would drop the connection.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from app.db import is_database_outage
from app.errors import TimetrackError, Unavailable
from server.asgi import HttpMiddleware
from server.logging import route_template

logger = logging.getLogger(__name__)

DATABASE_DOWN = "The database is temporarily unavailable. Nothing was changed; try again shortly."


def error_body(code: str, detail: str) -> dict[str, str]:
    return {"error": code, "detail": detail}


def error_response(error: TimetrackError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.detail),
        status_code=error.status_code,
        headers=error.headers or None,
    )


HTTP_ERROR_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def _validation_detail(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path"))
        message = str(item.get("msg", "is invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "The request is invalid."


def install(app: FastAPI) -> None:
    @app.exception_handler(TimetrackError)
    async def _domain(request: Request, error: TimetrackError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_input", _validation_detail(error)), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else "Request failed."
        return JSONResponse(
            error_body(HTTP_ERROR_CODES.get(error.status_code, "error"), detail),
            status_code=error.status_code,
            headers=error.headers,
        )

    # Not `exception_handler(Exception)`: Starlette runs that one in its outermost
    # middleware, outside every header this app adds, and re-raises afterwards.
    app.add_middleware(UnexpectedErrorMiddleware)


def unexpected_error_response(scope: Scope, error: Exception) -> JSONResponse:
    """503 while the database is away (no traceback: that is not a bug), else a logged 500."""
    if is_database_outage(error):
        logger.warning("database unavailable: %s", type(error).__name__)
        return error_response(Unavailable(DATABASE_DOWN))
    # The template, not the path: paths such as /login/<token> carry secrets.
    logger.error("unhandled error on %s", route_template(scope), exc_info=error)
    return JSONResponse(
        error_body("internal", "Something went wrong on our side. Nothing was changed."),
        status_code=500,
    )


class UnexpectedErrorMiddleware(HttpMiddleware):
    """Answers any exception nothing else handled, and does not let it reach the server."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_and_watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception as error:
            if started:
                # Half an answer is out: nothing well formed can follow it, so let the server
                # end the connection.
                raise
            await unexpected_error_response(scope, error)(scope, receive, send)
