"""The Switch offer as Discord shows it: the DM card with a Switch button, and the click.

An issue assigned to someone who tracks something else changes nothing; they get the card
of what they track with a `switch:<offer id>` button (`app.github` keeps the offer). A click
clocks out of what they track and into the issue, and the card becomes the new session's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import github
from app.clock import clock
from server.integrations.discord import views
from server.integrations.discord.payloads import ComponentInteraction
from server.integrations.discord.refs import row_id

SWITCH = "switch"


def offer_card(offer: github.Offer, now: datetime) -> dict[str, Any]:
    """The card of what the user tracks, told of the new assignment, with a Switch button."""
    issue = offer.issue
    title = f" {issue.title}" if issue.title else ""
    notice = (
        f"📌 You were assigned **{views.escape(issue.label)}**{views.escape(title)} "
        f"while you track **{views.escape(offer.tracking.subject.name)}**. "
        "Switch to clock out of it and start the issue."
    )
    card = views.session_card(offer.tracking, now, notice=notice)
    buttons = [views.button(f"Switch to #{issue.number}", SWITCH, offer.offer.id, views.PRIMARY)]
    if issue.url is not None:
        buttons.append(views.link_button("Open issue", issue.url))
    switch_row = views.action_row(*buttons)
    card["components"] = [*card["components"], switch_row]
    return card


def switched_notice(switched: github.Switched) -> str:
    label = f"**{views.escape(switched.issue.label)}**"
    if switched.change == github.Change.NOOP:
        return f"Already tracking {label}."
    if switched.change == github.Change.RESUMED:
        return f"Resumed {label}."
    if switched.stopped is None:
        return f"Switched to {label}."
    left = views.escape(switched.stopped.subject.name)
    return f"Switched to {label}; clocked out of **{left}**."


async def switch_button(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """Take the offer; the DM card becomes the new session's card. Expired offers and other
    people's clicks raise domain errors, which the router answers privately."""
    switched = await github.take_offer(db, interaction.user_id, row_id(ref))
    card = views.session_card(switched.session, clock.now(), notice=switched_notice(switched))
    return views.update(card)
