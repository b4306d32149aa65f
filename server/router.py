"""The FastAPI app and the Vercel entry point: every front door is mounted here.

Importing this module must stay cheap: no database connection, no embedded server. Both
are created on first use, so a cold start answers a Discord PING without them.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

import app as package
from app import health
from app.db import database
from server import errors


def create_app() -> FastAPI:
    application = FastAPI(
        title="timetrack",
        version=package.__version__,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(application)

    @application.get("/api/health", tags=["operations"])
    async def get_health() -> JSONResponse:
        try:
            async with database.sessions() as db:
                body = await health.report(db)
        except Exception as error:
            if not errors.is_database_outage(error):
                raise
            return JSONResponse(health.unavailable(), status_code=503)
        return JSONResponse(body)

    return application


app = create_app()
