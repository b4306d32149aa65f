"""Idempotency: each Discord interaction and GitHub delivery is applied once.

The record is written in the same transaction as the work it describes. A repeat that
races the original blocks on the unique key until the original commits, then finds it;
its own work is rolled back and the first answer is given again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.models import ProcessedEvent
from app.repositories.events import Answer, ProcessedEventRepository

__all__ = ["Answer", "answer", "find", "forget_failed", "prune", "record"]

DISCORD_INTERACTION = "discord_interaction"
GITHUB_DELIVERY = "github_delivery"
RETENTION = timedelta(days=7)


async def record(
    db: AsyncSession, kind: str, event_id: str, answer: Answer, *, user_id: str | None = None
) -> bool:
    """Remember the answer to an event (and who sent it, when someone did); False if it had
    been handled already."""
    repository = ProcessedEventRepository(db)
    return await repository.record(kind, event_id, answer, clock.now(), user_id)


async def answer(db: AsyncSession, kind: str, event_id: str, answer: Answer) -> None:
    """Set the final answer of an event this transaction recorded (claimed) earlier."""
    await ProcessedEventRepository(db).replace_answer(kind, event_id, answer)


async def find(db: AsyncSession, kind: str, event_id: str) -> ProcessedEvent | None:
    return await ProcessedEventRepository(db).find(kind, event_id)


async def forget_failed(db: AsyncSession, kind: str, event_id: str) -> bool:
    """Forget an event that failed on our side, so that its redelivery runs again."""
    return await ProcessedEventRepository(db).forget_failed(kind, event_id)


async def prune(db: AsyncSession) -> int:
    """Forget events older than the retention window; repeats come within minutes."""
    return await ProcessedEventRepository(db).prune(clock.now() - RETENTION)
