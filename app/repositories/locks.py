from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection


class SessionLocks:
    """Session-level advisory locks, on a connection that is not pooled: such a lock
    belongs to the connection, and lasts until it is released or the connection closes."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def try_lock(self, key: int) -> bool:
        taken = await self.connection.scalar(select(func.pg_try_advisory_lock(key)))
        return bool(taken)

    async def unlock(self, key: int) -> None:
        await self.connection.execute(select(func.pg_advisory_unlock(key)))

    async def ping(self) -> None:
        """Raises when the connection, and so the lock, is gone."""
        await self.connection.execute(select(1))
