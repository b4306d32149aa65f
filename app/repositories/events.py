from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from app.models import ProcessedEvent
from app.repositories.base import Repository


@dataclass(frozen=True)
class Answer:
    """What an event was answered, and whether that counts as handled successfully."""

    response: dict[str, Any]
    status_code: int = 200
    succeeded: bool = True


_COLUMNS = ("kind", "event_id", "status_code", "succeeded", "response", "created_at", "user_id")


@cache
def _record() -> Any:
    """Every interaction and delivery runs this, so it is built once, on first use (building
    it and deriving its cache key cost more CPU than executing it); the values are bound per
    call. Run as a SELECT from the statement, because an ORM INSERT given parameters takes
    the bulk path, which rebuilds the statement (and its cache key) on every call."""
    table = ProcessedEvent.__table__
    return select(ProcessedEvent.id).from_statement(
        insert(ProcessedEvent)
        .values({name: bindparam(name, type_=table.c[name].type) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=[ProcessedEvent.kind, ProcessedEvent.event_id])
        .returning(ProcessedEvent.id)
    )


class ProcessedEventRepository(Repository):
    async def record(
        self, kind: str, event_id: str, answer: Answer, at: datetime, user_id: str | None
    ) -> bool:
        """Insert the event; False when it was already recorded (by us or a racing twin)."""
        parameters = {
            "kind": kind,
            "event_id": event_id,
            "created_at": at,
            "user_id": user_id,
            **asdict(answer),
        }
        return (await self.db.execute(_record(), parameters)).scalar_one_or_none() is not None

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
