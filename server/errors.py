"""One mapping from failures to `{"error", "detail"}` JSON bodies."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from app.db import DATABASE_ERRORS, is_database_outage
from app.errors import TimetrackError, Unavailable
from server.logging import route_template

logger = logging.getLogger(__name__)

DATABASE_DOWN = "The database is temporarily unavailable. Nothing was changed; try again shortly."


def error_body(code: str, detail: str) -> dict[str, str]:
    return {"error": code, "detail": detail}


def error_response(error: TimetrackError) -> JSONResponse:
    return JSONResponse(error_body(error.code, error.detail), status_code=error.status_code)


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
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        detail = error.detail if isinstance(error.detail, str) else "Request failed."
        return JSONResponse(
            error_body(code.get(error.status_code, "error"), detail),
            status_code=error.status_code,
            headers=error.headers,
        )

    async def _database(request: Request, error: Exception) -> JSONResponse:
        if not is_database_outage(error):
            return _internal(request)
        logger.warning("database unavailable: %s", type(error).__name__)
        return error_response(Unavailable(DATABASE_DOWN))

    # Registered per class so an outage is an ordinary handled answer: a handler for
    # `Exception` runs in Starlette's outermost middleware, which re-raises afterwards and
    # would log a traceback for every request while the database is away.
    for kind in (*DATABASE_ERRORS, DBAPIError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        if is_database_outage(error):
            return await _database(request, error)
        return _internal(request)


def _internal(request: Request) -> JSONResponse:
    # The template, not the path: paths such as /login/<token> carry secrets.
    logger.exception("unhandled error on %s", route_template(request.scope))
    return JSONResponse(
        error_body("internal", "Something went wrong on our side. Nothing was changed."),
        status_code=500,
    )
