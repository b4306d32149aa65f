"""The Switch button on a GitHub DM card (`switch:<ref>`), registered with Discord's
component routing. `ref` is the row id of the delivery that made the offer (see
app.github_switch); the handler runs in the interaction's one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.github import Status
from app.github_switch import Switched, switch_to_offer
from server.discord import views
from server.discord.components import register_component, session_ref
from server.discord.payloads import ComponentInteraction
from server.github.notify import SWITCH


def switched_notice(switched: Switched) -> str:
    label = f"**{views.escape(switched.issue.label)}**"
    if switched.change == Status.NOOP:
        return f"Already tracking {label}."
    if switched.change == Status.RESUMED:
        return f"Resumed {label}."
    if switched.stopped is None:
        return f"Switched to {label}."
    left = views.escape(switched.stopped.subject.name)
    return f"Switched to {label}; clocked out of **{left}**."


async def switch_button(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """Clock out of what the clicker tracks and into the offered issue; the DM card becomes
    the new session's card. Expired offers and other people's clicks raise domain errors,
    which Discord's router answers privately.
    """
    switched = await switch_to_offer(db, interaction.user_id, session_ref(ref))
    card = views.session_card(switched.session, clock.now(), notice=switched_notice(switched))
    return views.update(card)


def register() -> None:
    register_component(SWITCH, switch_button)
