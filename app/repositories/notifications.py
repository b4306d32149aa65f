from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from app.models import Notification, NotificationStatus, Session
from app.repositories.base import Repository

if TYPE_CHECKING:
    from app.notifications import Draft

_RETRYABLE = (NotificationStatus.PENDING, NotificationStatus.SENDING)


class NotificationRepository(Repository):
    async def add_all(
        self, drafts: Sequence[Draft], *, at: datetime
    ) -> dict[tuple[str, str, str], int]:
        """Record messages as being sent; the ids of those new, by (user, kind, key). One
        already recorded, by this tick or a concurrent one (which then waits for this one
        to commit), is skipped."""
        rows = [
            {
                "user_id": draft.user_id,
                "session_id": draft.session_id,
                "kind": draft.kind,
                "key": draft.key,
                "message": draft.message,
                "status": NotificationStatus.SENDING,
                "created_at": at,
                "updated_at": at,
            }
            for draft in drafts
        ]
        statement = (
            insert(Notification)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=[Notification.user_id, Notification.kind, Notification.key]
            )
            .returning(Notification.user_id, Notification.kind, Notification.key, Notification.id)
        )
        found = await self.db.execute(statement)
        return {(user_id, kind, key): row_id for user_id, kind, key, row_id in found}

    async def give_up_on_ended_sessions(self, stuck_before: datetime, at: datetime) -> int:
        """Drop retries of reminders whose session has ended: asking "Still working?" about
        a session its owner already clocked out of helps nobody."""
        ended = ~exists().where(Session.id == Notification.session_id, Session.ended_at.is_(None))
        statement = (
            update(Notification)
            .where(
                _retryable(stuck_before),
                Notification.session_id.is_not(None),
                ended,
            )
            .values(status=NotificationStatus.FAILED, updated_at=at)
            .returning(Notification.id)
        )
        return len((await self.db.execute(statement)).all())

    async def claim_retries(
        self, stuck_before: datetime, at: datetime, limit: int
    ) -> Sequence[Notification]:
        """Claim messages to send again: those whose last attempt failed, and those a tick
        claimed but never settled (it crashed). SKIP LOCKED: a concurrent tick claims others."""
        chosen = (
            select(Notification.id)
            .where(_retryable(stuck_before))
            .order_by(Notification.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(Notification)
            .where(Notification.id.in_(chosen.scalar_subquery()))
            .values(status=NotificationStatus.SENDING, updated_at=at)
            .returning(Notification)
        )
        return (await self.db.execute(statement)).scalars().all()

    async def settle(
        self,
        *,
        sent: Sequence[int],
        failed: Sequence[int],
        untried: Sequence[int],
        max_attempts: int,
        at: datetime,
    ) -> None:
        """Record how the sending went. Only rows still claimed are touched."""
        claimed = Notification.status == NotificationStatus.SENDING
        if sent:
            await self.db.execute(
                update(Notification)
                .where(Notification.id.in_(sent), claimed)
                .values(
                    status=NotificationStatus.SENT,
                    attempts=Notification.attempts + 1,
                    sent_at=at,
                    updated_at=at,
                )
            )
        if failed:
            given_up = Notification.attempts + 1 >= max_attempts
            await self.db.execute(
                update(Notification)
                .where(Notification.id.in_(failed), claimed)
                .values(
                    status=case(
                        (given_up, NotificationStatus.FAILED.value),
                        else_=NotificationStatus.PENDING.value,
                    ),
                    attempts=Notification.attempts + 1,
                    updated_at=at,
                )
            )
        if untried:
            # Out of time before these were tried: no attempt is counted against them.
            await self.db.execute(
                update(Notification)
                .where(Notification.id.in_(untried), claimed)
                .values(status=NotificationStatus.PENDING, updated_at=at)
            )

    async def prune(self, before: datetime) -> int:
        statement = (
            delete(Notification)
            .where(Notification.updated_at < before, Notification.status.not_in(_RETRYABLE))
            .returning(Notification.id)
        )
        return len((await self.db.execute(statement)).all())


def _retryable(stuck_before: datetime) -> Any:
    """Waiting for another attempt, or claimed by a tick before `stuck_before` and never
    settled. The status test is spelled as the partial index `ix_notifications_retryable`
    spells it, so the index serves it."""
    return Notification.status.in_(_RETRYABLE) & or_(
        Notification.status == NotificationStatus.PENDING,
        Notification.updated_at < stuck_before,
    )
