"""`GET|POST /api/cron/tick` (all scheduled work) and `/api/cron/stop-stale` (the sweep
alone), called by Vercel's cron.

Vercel sends `Authorization: Bearer $CRON_SECRET` with a GET; an operator may POST the
same (`server.auth.cron`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends

from server.auth.cron import require_cron_secret
from server.cron.sweep import sweep
from server.cron.tick import tick
from server.transaction import Db

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/cron", tags=["operations"])

SUMMARY = "End stale sessions and prune old idempotency records"


# Two registrations rather than one `api_route`, so each method has its own operation id.
@router.get("/stop-stale", dependencies=[Depends(require_cron_secret)], summary=SUMMARY)
@router.post(
    "/stop-stale",
    dependencies=[Depends(require_cron_secret)],
    summary=SUMMARY,
    operation_id="stop_stale_post",
)
async def stop_stale(db: Db) -> dict[str, Any]:
    swept = await sweep(db)
    logger.info(
        "stale sweep: %d stopped, %d old events pruned", len(swept.stopped), swept.pruned_events
    )
    return {"stopped": len(swept.stopped), "session_ids": [s.id for s in swept.stopped]}


TICK_SUMMARY = "Run scheduled work: reminders, weekly summaries, retries, the stale sweep"


# The tick commits step by step (`server.cron.tick`), so it opens its own transactions
# rather than taking the request's.
@router.get("/tick", dependencies=[Depends(require_cron_secret)], summary=TICK_SUMMARY)
@router.post(
    "/tick",
    dependencies=[Depends(require_cron_secret)],
    summary=TICK_SUMMARY,
    operation_id="tick_post",
)
async def run_tick() -> dict[str, int]:
    return (await tick()).counts()
