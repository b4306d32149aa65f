"""What `/api/health` and `timetrack health` report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import app
from app import events, stale
from app.clock import clock
from app.models import NotificationStatus
from app.repositories.health import HealthRepository

WINDOW = timedelta(hours=24)


async def report(db: AsyncSession) -> dict[str, Any]:
    """One round trip: active and stale sessions, webhook success and scheduled messages
    over the last day."""
    now = clock.now()
    hours = stale.stale_hours()
    counts = await HealthRepository(db).counts(
        stale_before=stale.cutoff(hours, now),
        kind=events.GITHUB_DELIVERY,
        since=now - WINDOW,
    )
    total = counts.deliveries
    return {
        "status": "ok",
        "database": "ok",
        "version": app.__version__,
        "active_sessions": counts.active_sessions,
        "stale_sessions": counts.stale_sessions,
        "stale_after_hours": hours,
        "webhooks_24h": {
            "deliveries": total,
            "succeeded": counts.delivered_ok,
            # No deliveries is not a failure: null says "nothing to judge by".
            "success_rate": round(counts.delivered_ok / total, 4) if total else None,
        },
        # Reminders and summaries settled in the last day: delivered, waiting for another
        # attempt, and given up.
        "notifications_24h": {
            "sent": counts.notifications[NotificationStatus.SENT],
            "retrying": counts.notifications[NotificationStatus.PENDING],
            "failed": counts.notifications[NotificationStatus.FAILED],
        },
    }


def unavailable() -> dict[str, Any]:
    return {"status": "unavailable", "database": "unavailable", "version": app.__version__}
