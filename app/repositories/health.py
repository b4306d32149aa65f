from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, true

from app.models import Notification, NotificationStatus, ProcessedEvent, Session
from app.repositories.base import Repository
from app.repositories.sessions import ACTIVE


@dataclass(frozen=True)
class HealthCounts:
    active_sessions: int
    stale_sessions: int
    deliveries: int
    delivered_ok: int
    notifications: dict[NotificationStatus, int]


class HealthRepository(Repository):
    async def counts(self, *, stale_before: datetime, kind: str, since: datetime) -> HealthCounts:
        """Active and stale sessions, recent deliveries of `kind`, and scheduled messages
        by status since `since`: one round trip.

        The same statement is the check that the database answers at all.
        """
        active = ACTIVE
        sessions = (
            select(
                func.count().label("active"),
                func.count().filter(Session.started_at < stale_before).label("stale"),
            )
            .where(active)
            .subquery()
        )
        deliveries = (
            select(
                func.count().label("total"),
                func.coalesce(func.sum(case((ProcessedEvent.succeeded, 1), else_=0)), 0).label(
                    "ok"
                ),
            )
            .where(ProcessedEvent.kind == kind, ProcessedEvent.created_at >= since)
            .subquery()
        )
        scheduled = (
            select(
                *(
                    func.count().filter(Notification.status == status).label(status.value)
                    for status in NotificationStatus
                )
            )
            .where(Notification.updated_at >= since)
            .subquery()
        )
        # Each side is exactly one row; the joins only put them side by side.
        all_three = sessions.join(deliveries, true()).join(scheduled, true())
        statement = select(
            sessions.c.active,
            sessions.c.stale,
            deliveries.c.total,
            deliveries.c.ok,
            *(scheduled.c[status.value] for status in NotificationStatus),
        ).select_from(all_three)
        row = (await self.db.execute(statement)).one()
        return HealthCounts(
            active_sessions=int(row.active),
            stale_sessions=int(row.stale),
            deliveries=int(row.total),
            delivered_ok=int(row.ok),
            notifications={
                status: int(row._mapping[status.value]) for status in NotificationStatus
            },
        )
