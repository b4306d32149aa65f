from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from app.db import fetch_one
from app.models import ProcessedEvent
from app.repositories.base import Repository


@dataclass(frozen=True)
class Answer:
    """What an event was answered, and whether that counts as handled successfully."""

    response: dict[str, Any]
    status_code: int = 200
    succeeded: bool = True


# Every interaction and delivery runs this, in the transaction of its work. `user_id` is
# whose event it was: a stored answer is replayed only to its sender.
RECORD = """
INSERT INTO processed_events
    (kind, event_id, status_code, succeeded, response, created_at, user_id)
VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)
ON CONFLICT (kind, event_id) DO NOTHING
RETURNING id
"""


class ProcessedEventRepository(Repository):
    async def record(
        self, kind: str, event_id: str, answer: Answer, at: datetime, user_id: str | None
    ) -> bool:
        """Insert the event; False when it was already recorded (by us or a racing twin)."""
        response = json.dumps(answer.response, separators=(",", ":"))
        parameters = (kind, event_id, answer.status_code, answer.succeeded, response, at, user_id)
        return await fetch_one(self.db, RECORD, parameters) is not None

    async def replace_answer(self, kind: str, event_id: str, answer: Answer) -> None:
        """Replace the answer of an event recorded earlier in this transaction."""
        statement = (
            update(ProcessedEvent)
            .where(ProcessedEvent.kind == kind, ProcessedEvent.event_id == event_id)
            .values(**asdict(answer))
        )
        await self.db.execute(statement)

    async def find(self, kind: str, event_id: str) -> ProcessedEvent | None:
        statement = select(ProcessedEvent).where(
            ProcessedEvent.kind == kind, ProcessedEvent.event_id == event_id
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def prune(self, before: datetime) -> int:
        statement = (
            delete(ProcessedEvent)
            .where(ProcessedEvent.created_at < before)
            .returning(ProcessedEvent.id)
        )
        return len((await self.db.execute(statement)).all())

    async def forget_failed(self, kind: str, event_id: str) -> bool:
        """Drop a record whose answer was a server-side failure, so a redelivery runs again."""
        statement = (
            delete(ProcessedEvent)
            .where(
                ProcessedEvent.kind == kind,
                ProcessedEvent.event_id == event_id,
                ProcessedEvent.status_code >= 500,
            )
            .returning(ProcessedEvent.id)
        )
        return (await self.db.execute(statement)).scalar_one_or_none() is not None
