"""`timetrack serve` runs scheduled work itself: a tick every TIMETRACK_TICK_SECONDS, so a
local install needs no cron.

Every worker process runs this loop, but only the leader ticks: the process that holds
the tick's advisory lock (`app.leadership`). The others try to take the lock at each
interval, so when the leader dies another one takes over within an interval. Started and
stopped by the app's lifespan; never on Vercel, where the cron calls `/api/cron/tick`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from app.db import is_database_outage
from app.leadership import TICK_LOCK, Leadership
from server.cron.tick import tick

logger = logging.getLogger(__name__)

# On shutdown a tick in progress may finish its batch of DMs (server.notify's budget is
# 20 s); after this it is cancelled, and the messages it claimed are sent by a later tick.
STOP_GRACE_SECONDS = 25.0


class Ticker:
    def __init__(
        self,
        interval: float,
        work: Callable[[], Awaitable[object]] | None = None,
        *,
        lock_key: int = TICK_LOCK,
    ) -> None:
        self.interval = interval
        self.work = work or tick
        self.lock_key = lock_key
        self.leadership: Leadership | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Ticker:
        self._task = asyncio.create_task(self._run(), name="timetrack ticker")
        return self

    async def stop(self) -> None:
        """Finish the tick in progress (within STOP_GRACE_SECONDS) and let the lock go."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
        except TimeoutError:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                await self._once()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.interval)
        finally:
            if self.leadership is not None:
                await self.leadership.release()
                self.leadership = None

    async def _once(self) -> None:
        """Tick if this process leads, taking the lead first when nobody holds it."""
        try:
            if self.leadership is not None and not await self.leadership.still_held():
                await self.leadership.release()
                self.leadership = None
            if self.leadership is None:
                self.leadership = await Leadership.try_take(self.lock_key)
                if self.leadership is not None:
                    logger.info("ticker: this process runs scheduled work")
            if self.leadership is not None:
                await self.work()
        except Exception as error:
            # The loop outlives any one failure; the next interval tries again.
            if is_database_outage(error):
                logger.warning("ticker: database unavailable (%s)", type(error).__name__)
            else:
                logger.exception("ticker: scheduled work failed")
