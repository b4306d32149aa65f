"""`GET|POST /api/cron/tick` (all scheduled work) and `/api/cron/stop-stale` (the sweep
alone), called by Vercel's cron.

Vercel sends `Authorization: Bearer $CRON_SECRET` with a GET; an operator may POST the
same (`server.auth.cron`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends

from server.auth.cron import require_cron_secret
from server.cron.sweep import sweep
from server.cron.tick import tick
from server.transaction import Db

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/cron", tags=["operations"])

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def scheduled(path: str, summary: str) -> Callable[[Handler], Handler]:
    """GET for Vercel's cron and POST for an operator, both behind the cron secret. Two
    registrations rather than one `api_route`, so each method has its own operation id."""

    def register(handler: Handler) -> Handler:
        secret = [Depends(require_cron_secret)]
        router.get(path, dependencies=secret, summary=summary)(handler)
        operation_id = f"{handler.__name__}_post"
        router.post(path, dependencies=secret, summary=summary, operation_id=operation_id)(handler)
        return handler

    return register


@scheduled("/stop-stale", "End stale sessions and prune old idempotency records")
async def stop_stale(db: Db) -> dict[str, Any]:
    swept = await sweep(db)
    logger.info(
        "stale sweep: %d stopped, %d old events pruned", len(swept.stopped), swept.pruned_events
    )
    return {"stopped": len(swept.stopped), "session_ids": [s.id for s in swept.stopped]}


# The tick commits step by step (`server.cron.tick`), so it opens its own transactions
# rather than taking the request's.
@scheduled("/tick", "Run scheduled work: reminders, weekly summaries, retries, the stale sweep")
async def run_tick() -> dict[str, int]:
    return (await tick()).counts()
