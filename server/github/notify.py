"""DMs about what GitHub did: the session card of a started or stopped session, and the
Switch offer when an assignment arrives while its assignee tracks something else.

Sent only after the webhook's transaction has committed, and never allowed to fail the
webhook: closed DMs (Discord 403) or an outage only cost the message.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from app.clock import clock
from app.github import Announcement, Result, Status, SwitchOffer
from app.models import StopReason
from server.discord import views
from server.discord.client import DiscordClient

logger = logging.getLogger(__name__)

SWITCH = "switch"


_STOPPED_BECAUSE = {
    StopReason.UNASSIGNED: "you were unassigned from {label}",
    StopReason.ISSUE_CLOSED: "{label} was closed",
    StopReason.PROJECT_DONE: "{label} was moved to done on its project board",
}


def announcement_notice(announcement: Announcement) -> str:
    label = f"**{views.escape(announcement.issue.label)}**"
    if announcement.change == Status.STARTED:
        return f"▶️ Started: you were assigned {label}."
    if announcement.change == Status.RESUMED:
        return f"▶️ Resumed: you were assigned {label}."
    reason = announcement.session.stop_reason
    because = _STOPPED_BECAUSE.get(StopReason(reason), "") if reason else ""
    return f"⏹️ Clocked out: {because.format(label=label) or label}. Review it below."


def switch_offer_card(offer: SwitchOffer, offer_ref: int, now: datetime) -> dict[str, Any]:
    """The card of what the user tracks, told of the new assignment, with a Switch button."""
    issue = offer.issue
    title = f" {issue.title}" if issue.title else ""
    notice = (
        f"📌 You were assigned **{views.escape(issue.label)}**{views.escape(title)} "
        f"while you track **{views.escape(offer.tracking.subject.name)}**. "
        "Switch to clock out of it and start the issue."
    )
    card = views.session_card(offer.tracking, now, notice=notice)
    switch_row = views.action_row(
        views.button(f"Switch to #{issue.number}", SWITCH, offer_ref, views.PRIMARY),
        views.link_button("Open issue", issue.url),
    )
    card["components"] = [*card["components"], switch_row]
    return card


async def announce(result: Result, offer_ref: int | None) -> None:
    """DM every owner the event touched; a no-op without DISCORD_BOT_TOKEN."""
    client = DiscordClient.from_settings()
    if not client.can_send_dms:
        return
    now = clock.now()
    messages = [
        (a.user_id, views.session_card(a.session, now, notice=announcement_notice(a)))
        for a in result.announcements
    ]
    if offer_ref is not None:
        messages += [(o.user_id, switch_offer_card(o, offer_ref, now)) for o in result.offers]
    if not messages:
        return
    try:
        await asyncio.gather(*(client.send_dm(user_id, message) for user_id, message in messages))
    except Exception:
        # send_dm promises not to raise; should it ever, the webhook still answers.
        logger.exception("github: DMs failed")
