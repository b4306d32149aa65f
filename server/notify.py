"""Telling people things: the one way timetrack sends a message nobody asked for at that
moment (a GitHub event started or stopped a session, the sweep ended one, an assignment
offers a switch, a session has run long, a week is over). Messages go as Discord DMs
carrying a card whose buttons work like any other card's; a team's week goes to its
channel.

Messages about a change are queued inside the caller's transaction and sent only after it
commits (`app.db.after_commit`): a DM never announces a change that was rolled back.
Scheduled messages (reminders, weekly summaries) are recorded in `app.notifications`
instead, in the transaction that decides them, so that each is sent once and retried when
it fails; the tick sends them with `send_scheduled`.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import github
from app.clock import clock
from app.config import get_settings
from app.db import after_commit, pending_after_commit
from app.models import NotificationKind, Session
from app.notifications import Claim, Draft
from app.reminders import DueReminder
from app.summaries import WeeklySummary
from app.teams import TeamWeek
from server.integrations.discord import period_views, switch, views
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


async def deliver(messages: Sequence[tuple[str, dict[str, Any]]]) -> list[bool | None]:
    """DM each (user id, message) under the policy above. For each, in order: True when
    delivered, False when it failed, None when the budget ran out before it was tried."""
    if not messages:
        return []
    client = DiscordClient.from_settings()
    gate = asyncio.Semaphore(CONCURRENCY)
    tried = [False] * len(messages)

    async def send(index: int, user_id: str, message: dict[str, Any]) -> bool:
        async with gate:
            tried[index] = True
            return await client.send_dm(user_id, message)

    tasks = [asyncio.ensure_future(send(n, *queued)) for n, queued in enumerate(messages)]
    done, pending = await asyncio.wait(tasks, timeout=BUDGET_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        logger.warning("notify: %d DMs not sent, out of time", len(pending))
    results: list[bool | None] = [
        (task.exception() is None and task.result())
        if task in done
        # Cut off mid-send, it may have arrived: count it as an attempt that failed.
        else (False if tried[n] else None)
        for n, task in enumerate(tasks)
    ]
    delivered = sum(result is True for result in results)
    logger.info("notify: %d of %d DMs delivered", delivered, len(messages))
    return results


@dataclass
class Outbox:
    """The DMs one transaction queued; sent as one batch after it commits."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0

    async def __call__(self) -> None:
        results = await deliver(self.messages)
        self.delivered = sum(result is True for result in results)
        self.failed = len(results) - self.delivered


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


# --- Scheduled messages -----------------------------------------------------------------


def reminder(due: DueReminder) -> Draft:
    """The "Still working on …?" card for a session that has run long."""
    session = due.session
    return Draft(
        session.user_id,
        NotificationKind.REMINDER,
        due.key,
        views.reminder_card(session, clock.now()),
        session_id=session.id,
    )


def weekly_summary(summary: WeeklySummary) -> Draft:
    """Last week's summary, for its user."""
    return Draft(
        summary.user_id,
        NotificationKind.WEEKLY_SUMMARY,
        summary.key,
        period_views.weekly_summary_message(summary),
    )


async def post_team_week(post: TeamWeek) -> bool:
    """Post a team's week to its channel now; whether Discord took it (False, logged, when
    it refused or there is no bot token or channel)."""
    channel_id = post.team.discord_channel_id
    if channel_id is None:
        return False
    message = period_views.team_week_message(post.team.name, post.summary)
    return await DiscordClient.from_settings().send_message(channel_id, message)


def team_week(db: AsyncSession, post: TeamWeek) -> None:
    """Post a team's week to its channel after the commit that recorded it as posted. A post
    Discord refuses is logged, not retried: a week is posted at most once."""
    if enabled():

        async def send() -> None:
            await post_team_week(post)

        after_commit(db, send)


def nonce(claim: Claim) -> str:
    # Discord allows 25 characters; a bigint id needs at most 19.
    return f"tt{claim.id}"


async def send_scheduled(claims: Sequence[Claim]) -> dict[int, bool | None]:
    """Send recorded messages now; each one's outcome, by record id.

    Each carries a nonce from its record, and Discord refuses a second message with the
    same nonce for a few minutes: a retry of a message that did arrive (its answer lost, or
    its tick dead before it could say) shows the first one instead of a copy.
    """
    results = await deliver(
        [
            (claim.user_id, {**claim.message, "nonce": nonce(claim), "enforce_nonce": True})
            for claim in claims
        ]
    )
    return {claim.id: result for claim, result in zip(claims, results, strict=True)}
