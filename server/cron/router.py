"""`GET|POST /api/cron/stop-stale`: the periodic sweep, called by Vercel's cron.

Vercel sends `Authorization: Bearer $CRON_SECRET` with a GET; an operator may POST the
same. Without CRON_SECRET the endpoint is off (503) rather than open to anyone.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app import stale
from app.config import get_settings
from app.errors import NotConfigured
from server.cron import notify
from server.dependencies import get_db

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/cron", tags=["operations"])


def require_cron_secret(request: Request) -> None:
    """401 unless `Authorization: Bearer <CRON_SECRET>`; checked before any database work."""
    secret = get_settings().cron_secret
    if secret is None:
        raise NotConfigured("Cron endpoints are off: CRON_SECRET is not set on this server.")
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    expected = secret.get_secret_value().encode()
    # compare_digest takes the same time wherever the first difference is.
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.encode(), expected):
        raise HTTPException(
            401,
            "Send `Authorization: Bearer <CRON_SECRET>`.",
            headers={"WWW-Authenticate": 'Bearer realm="timetrack cron"'},
        )


SUMMARY = "End stale sessions and prune old idempotency records"


# Two registrations rather than one `api_route`, so each method has its own operation id.
@router.get("/stop-stale", dependencies=[Depends(require_cron_secret)], summary=SUMMARY)
@router.post(
    "/stop-stale",
    dependencies=[Depends(require_cron_secret)],
    summary=SUMMARY,
    operation_id="stop_stale_post",
)
async def stop_stale(
    db: Annotated[AsyncSession, Depends(get_db, scope="function")],
) -> dict[str, Any]:
    swept = await stale.sweep(db)
    # Commit before telling anyone: a DM must never announce a change that was rolled back.
    await db.commit()
    delivered = await notify.notify_stopped(swept.stopped, hours=swept.hours)
    logger.info(
        "stale sweep: %d stopped, %d DMs delivered, %d old events pruned",
        len(swept.stopped),
        delivered,
        swept.pruned_events,
    )
    return {"stopped": len(swept.stopped), "session_ids": [s.id for s in swept.stopped]}
