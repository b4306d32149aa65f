"""The FastAPI app and the Vercel entry point: every front door is mounted here.

Importing this module must stay cheap: no database connection, no embedded server. Both
are created on first use, so a cold start answers a Discord PING without them.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

import app as package
from app import health
from app.config import get_settings
from app.db import database, is_database_outage
from server import body_limit, errors, security
from server import logging as request_log
from server.api.router import router as api_router
from server.cron.router import router as cron_router
from server.cron.ticker import Ticker
from server.integrations.discord import deferral
from server.integrations.discord.router import router as discord_router
from server.integrations.github import router as github
from server.web.router import router as web_router


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
        ticker = Ticker(settings.tick_seconds).start()
    yield
    if ticker is not None:
        await ticker.stop()
    # Deferred Discord answers still being completed get to finish before the process ends.
    await deferral.drain()


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
    body_limit.install(application, by_path=github.BODY_LIMITS)
    errors.install(application)
    application.include_router(cron_router)
    application.include_router(discord_router)
    application.include_router(github.router)
    application.include_router(api_router)
    application.include_router(web_router)
    security.install(application)
    request_log.install(application)

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
