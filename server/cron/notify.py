"""Telling owners, by Discord DM, that their stale sessions were stopped.

Shared by the cron endpoint and `timetrack stop-stale`. It runs after the commit, so a DM
never announces a change that was rolled back, and it never raises: the sessions are
stopped whether or not anyone could be told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from app.clock import clock
from app.config import get_settings
from app.models import Session

logger = logging.getLogger(__name__)

# Discord limits DM channel creation per bot; a few at a time is plenty for a daily sweep.
CONCURRENCY = 4
# A cron invocation has a time limit of its own; DMs that miss this budget are skipped.
BUDGET_SECONDS = 20.0


def _hours(hours: float) -> str:
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def stale_notice(hours: float) -> str:
    return (
        f"I clocked you out: this session had been open for more than {_hours(hours)}. "
        "Most of that was probably not work, so adjust the time if needed, then confirm it."
    )


async def notify_stopped(sessions: Sequence[Session], *, hours: float) -> int:
    """DM each owner the card of their stopped session; the number of DMs delivered."""
    if not sessions or get_settings().discord_bot_token is None:
        return 0
    # Deferred: Discord's modules are only needed when there is something to send.
    from server.discord.client import DiscordClient
    from server.discord.views import session_card

    client = DiscordClient.from_settings()
    now = clock.now()
    notice = stale_notice(hours)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(session: Session) -> bool:
        async with gate:
            return await client.send_dm(session.user_id, session_card(session, now, notice=notice))

    tasks = [asyncio.ensure_future(send(session)) for session in sessions]
    done, pending = await asyncio.wait(tasks, timeout=BUDGET_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    delivered = 0
    for task in done:
        if task.exception() is not None:
            logger.warning("stale-session DM failed: %s", type(task.exception()).__name__)
        elif task.result():
            delivered += 1
    if pending:
        logger.warning("stale-session DMs: %d skipped, out of time", len(pending))
    return delivered
