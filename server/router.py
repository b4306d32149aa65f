"""The FastAPI app and the Vercel entry point: every front door is mounted here.

Importing this module must stay cheap: no database connection, no embedded server, and
only what a Discord PING needs. The database is reached on first use; the GitHub
integration and the web page (with httpx and Jinja) are imported by their first request,
or when the API schema is built.
"""

from __future__ import annotations

import gc

# Importing the app creates some 400,000 objects that live as long as the process. The
# collector's full passes over them while they are being created cost about a fifth of a
# cold start, so collection waits until the app is built and they are frozen (at the end).
gc.disable()

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import app as package
from app import health
from app.config import get_settings
from app.db import database, is_database_outage
from server import body_limit, errors, outbound, security
from server import logging as request_log
from server.api.router import router as api_router
from server.cron.router import router as cron_router
from server.integrations.discord import deferral
from server.integrations.discord.router import router as discord_router

# Front doors a PING never uses: module -> the paths its routes serve (exact, or a prefix
# ending in "/"). tests/ops/test_cold_start.py holds these to the modules' real routes.
ON_FIRST_USE: dict[str, tuple[str, ...]] = {
    "server.integrations.github.router": (
        "/api/github/",
        "/api/github-timer-webhook",
        "/api/github-timer-webhook/",
        "/github/",
    ),
    "server.web.router": ("/", "/login/", "/logout", "/logout/", "/static/", "/teams/join/"),
}


def serves(paths: tuple[str, ...], path: str) -> bool:
    """Whether one of `paths` (exact, or a prefix ending in "/") covers `path`."""
    return any(path == p or (p.endswith("/") and p != "/" and path.startswith(p)) for p in paths)


class RoutesOnFirstUse:
    """Includes a front door's router when a request first reaches one of its paths."""

    def __init__(self, application: FastAPI) -> None:
        self.application = application
        self.waiting = dict(ON_FIRST_USE)

    def include(self, module: str) -> None:
        if self.waiting.pop(module, None) is not None:
            router: APIRouter = importlib.import_module(module).router
            self.application.include_router(router)

    def include_all(self) -> None:
        for module in list(self.waiting):
            self.include(module)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def include_then_serve(scope: Scope, receive: Receive, send: Send) -> None:
            if self.waiting and scope["type"] == "http":
                for module, paths in list(self.waiting.items()):
                    if serves(paths, scope["path"]):
                        self.include(module)
            await app(scope, receive, send)

        return include_then_serve


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    # In production (TIMETRACK_ENV=production, or on Vercel) refuse to start without
    # TIMETRACK_SECRET_KEY and DATABASE_URL; the error names what is missing.
    settings.check_production()
    # A long-lived server runs scheduled work itself; on Vercel, functions live only for a
    # request, and the cron calls /api/cron/tick instead.
    ticker = None
    if settings.tick_seconds > 0 and not settings.on_vercel:
        # Imported here: the tick sends DMs (httpx), which a cold start answering a PING
        # never needs, and Vercel never runs this loop.
        from server.cron.ticker import Ticker

        ticker = Ticker(settings.tick_seconds).start()
    yield
    if ticker is not None:
        await ticker.stop()
    # Deferred Discord answers still being completed get to finish before the process ends.
    await deferral.drain()
    await outbound.aclose()


def create_app() -> FastAPI:
    application = FastAPI(
        title="timetrack",
        version=package.__version__,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    # Middleware added later wraps what came before. From the inside out: bodies are capped
    # as they are read; anything unexpected is answered; every answer gets the security
    # headers; the request log times everything.
    body_limit.install(application, by_path=body_limit.BY_PATH)
    errors.install(application)
    application.include_router(cron_router)
    application.include_router(discord_router)
    application.include_router(api_router)
    on_first_use = RoutesOnFirstUse(application)
    application.add_middleware(on_first_use.middleware)
    security.install(application)
    request_log.install(application)  # added last, so outermost: it times everything
    schema: Callable[[], dict[str, Any]] = application.openapi

    def openapi() -> dict[str, Any]:
        on_first_use.include_all()
        return schema()

    application.openapi = openapi  # type: ignore[method-assign]

    @application.get("/api/health", tags=["operations"])
    async def get_health() -> JSONResponse:
        try:
            async with database.sessions() as db:
                body = await health.report(db)
        except Exception as error:
            if not is_database_outage(error):
                raise
            return JSONResponse(health.unavailable(), status_code=503)
        return JSONResponse(body)

    return application


app = create_app()

# What the imports built (modules, routes, schemas, the ORM's mappers) lives as long as the
# process. Freezing it keeps the collector's full passes from walking it all, which stalled
# every request in flight for 60-100 ms a few times a minute under load (docs/performance.md).
gc.freeze()
gc.enable()
