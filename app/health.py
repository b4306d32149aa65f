"""What `/api/health` and `timetrack health` report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

import app
from app.clock import clock
from app.config import get_settings
from app.models import ACTIVE_STATUSES, ProcessedEvent, Session

WEBHOOK_WINDOW = timedelta(hours=24)
GITHUB_EVENT_KIND = "github_delivery"


async def report(db: AsyncSession) -> dict[str, Any]:
    """One round trip: active and stale sessions, and webhook success over the last day."""
    now = clock.now()
    stale_cutoff = now - timedelta(hours=get_settings().stale_hours)
    active = Session.status.in_(ACTIVE_STATUSES)
    sessions = select(
        func.count().filter(active).label("active"),
        func.count().filter(active, Session.started_at < stale_cutoff).label("stale"),
    ).where(active)
    deliveries = select(
        func.count().label("total"),
        cast(func.sum(case((ProcessedEvent.succeeded, 1), else_=0)), Float).label("ok"),
    ).where(
        ProcessedEvent.kind == GITHUB_EVENT_KIND,
        ProcessedEvent.created_at >= now - WEBHOOK_WINDOW,
    )
    s = sessions.subquery()
    d = deliveries.subquery()
    # Each side is a single aggregate row, so the cross join is the point, not an accident.
    statement = select(s.c.active, s.c.stale, d.c.total, d.c.ok).select_from(s.join(d, true()))
    row = (await db.execute(statement)).one()
    total = int(row.total or 0)
    return {
        "status": "ok",
        "database": "ok",
        "version": app.__version__,
        "active_sessions": int(row.active or 0),
        "stale_sessions": int(row.stale or 0),
        "stale_after_hours": get_settings().stale_hours,
        "webhooks_24h": {
            "deliveries": total,
            "success_rate": round(float(row.ok or 0) / total, 4) if total else None,
        },
    }


def unavailable() -> dict[str, Any]:
    return {"status": "unavailable", "database": "unavailable", "version": app.__version__}
