"""Telling people what happened to their sessions: the one way timetrack sends a message
nobody asked for (a GitHub event started or stopped a session, the sweep ended one, an
assignment offers a switch). Messages go as Discord DMs carrying the session's card, whose
buttons work like any other card's.

Messages are queued inside the caller's transaction and sent only after it commits
(`app.db.after_commit`): a DM never announces a change that was rolled back.

One policy for every sender:
- without DISCORD_BOT_TOKEN nothing is sent;
- a DM that Discord refuses (the user closed their DMs, or is no Discord user) or that
  cannot be delivered (an outage, a timeout) is logged and counted, never raised: the
  change stands whether or not anyone could be told;
- at most CONCURRENCY DMs at a time, and a batch stops after BUDGET_SECONDS, because the
  webhook or cron call that queued it has a deadline of its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import github
from app.clock import clock
from app.config import get_settings
from app.db import after_commit, pending_after_commit
from app.models import Session
from server.integrations.discord import switch, views
from server.integrations.discord.client import DiscordClient

logger = logging.getLogger(__name__)

# Discord limits DM channel creation per bot; a few at a time is plenty.
CONCURRENCY = 4
BUDGET_SECONDS = 20.0


@dataclass(frozen=True)
class Notice:
    """The line above a card. `{issue}` in `text` stands for `issue`, shown emphasised."""

    text: str
    issue: str | None = None


@dataclass
class Outbox:
    """The DMs one transaction queued; sent as one batch after it commits."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0

    async def __call__(self) -> None:
        if not self.messages:
            return
        client = DiscordClient.from_settings()
        gate = asyncio.Semaphore(CONCURRENCY)

        async def send(user_id: str, message: dict[str, Any]) -> bool:
            async with gate:
                return await client.send_dm(user_id, message)

        tasks = [asyncio.ensure_future(send(*queued)) for queued in self.messages]
        done, pending = await asyncio.wait(tasks, timeout=BUDGET_SECONDS)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is None and task.result():
                self.delivered += 1
            else:
                self.failed += 1
        self.failed += len(pending)
        if pending:
            logger.warning("notify: %d DMs not sent, out of time", len(pending))
        logger.info("notify: %d of %d DMs delivered", self.delivered, len(self.messages))


def enabled() -> bool:
    """Whether messages can be sent at all (a bot token is configured)."""
    return get_settings().discord_bot_token is not None


def outbox(db: AsyncSession) -> Outbox:
    """This transaction's outbox, queued to be sent after it commits."""
    for work in pending_after_commit(db):
        if isinstance(work, Outbox):
            return work
    box = Outbox()
    after_commit(db, box)
    return box


def _queue(db: AsyncSession, user_id: str, message: dict[str, Any]) -> None:
    if enabled():
        outbox(db).messages.append((user_id, message))


def session_card(db: AsyncSession, session: Session, notice: Notice) -> None:
    """Send the session's owner its card, under the notice."""
    text = notice.text
    if notice.issue is not None:
        text = text.replace("{issue}", f"**{views.escape(notice.issue)}**")
    _queue(db, session.user_id, views.session_card(session, clock.now(), notice=text))


def switch_offer(db: AsyncSession, offer: github.Offer) -> None:
    """Offer the user a switch to the issue they were assigned while tracking another."""
    _queue(db, offer.tracking.user_id, switch.offer_card(offer, clock.now()))
