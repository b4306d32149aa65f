"""One process at a time: the leader among processes sharing a database.

The leader holds a session-level PostgreSQL advisory lock on a connection of its own. The
lock lives as long as that connection: when the process dies, or its connection breaks,
PostgreSQL releases it and another process can take it. Nothing else is shared, so
processes never have to agree on anything but the lock.

A session-level lock needs a real session: through a transaction-mode pooler (PgBouncer,
Neon's `-pooler` host) the connection under it changes between transactions, so the lock
would not mean anything. Use a direct connection for this, or no leader at all.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from app.db import database
from app.repositories.locks import SessionLocks

logger = logging.getLogger(__name__)

# An arbitrary constant, the same in every process: "timetick" read as a number.
TICK_LOCK = int.from_bytes(b"timetick", "big")


class Leadership:
    def __init__(self, locks: SessionLocks, key: int) -> None:
        self._locks = locks
        self.key = key

    @classmethod
    async def try_take(cls, key: int) -> Leadership | None:
        """The lock if no other process holds it; None otherwise. Raises if the database
        cannot be reached."""
        connection = await database.dedicated_connection()
        try:
            locks = SessionLocks(connection)
            if await locks.try_lock(key):
                return cls(locks, key)
        except BaseException:
            await connection.close()
            raise
        await connection.close()
        return None

    async def still_held(self) -> bool:
        """Whether the lock is still ours: its connection still answers."""
        try:
            await self._locks.ping()
        except Exception as error:
            logger.warning("leadership lost: %s", type(error).__name__)
            return False
        return True

    async def release(self) -> None:
        # Closing the connection releases the lock in any case; unlocking first just says so.
        with suppress(Exception):
            await self._locks.unlock(self.key)
        with suppress(Exception):
            await self._locks.connection.close()
