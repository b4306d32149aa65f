"""Buttons and modal submissions: `custom_id` is `<action>:<ref>`, routed by action.

`COMPONENT_HANDLERS` maps a button action to its handler, `MODAL_HANDLERS` a modal's; an
action with no handler answers "This button is no longer supported". Every handler runs
inside the interaction's transaction and returns the callback body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import allocation, history
from app import session as sessions
from app.clock import clock
from app.errors import Conflict, InvalidInput
from app.models import Session
from app.weeks import parse_week
from server.integrations.discord import period_views, switch, views
from server.integrations.discord.payloads import ComponentInteraction, ModalInteraction
from server.integrations.discord.refs import UnsupportedComponent, row_id

ComponentHandler = Callable[[AsyncSession, ComponentInteraction, str], Awaitable[dict[str, Any]]]
ModalHandler = Callable[[AsyncSession, ModalInteraction, str], Awaitable[dict[str, Any]]]

NO_LONGER_SUPPORTED = "This button is no longer supported."
STALE_CARD = "This card was out of date. Here is the session as it is now."


def _card_answer(
    interaction: ComponentInteraction | ModalInteraction, session: Session, notice: str | None
) -> dict[str, Any]:
    card = views.session_card(session, clock.now(), notice=notice)
    # A modal opened from a card updates that card; one opened elsewhere posts a new one.
    if isinstance(interaction, ModalInteraction) and interaction.message is None:
        return views.reply(card)
    return views.update(card)


async def _stale_card_or_raise(
    db: AsyncSession,
    interaction: ComponentInteraction | ModalInteraction,
    session_id: int,
    action: str,
    conflict: Conflict,
) -> dict[str, Any]:
    """A conflict on a button the card should no longer show means the card is stale: show
    the session's true state with the reason. Otherwise the conflict is real: say it privately.
    """
    session = await sessions.get(db, interaction.user_id, session_id)
    if action in views.actions_for(session):
        raise conflict
    return _card_answer(interaction, session, conflict.detail)


SessionAction = Callable[..., Awaitable[sessions.Outcome]]

# Button action -> the domain function of app.session it calls (looked up at each call).
_SESSION_ACTIONS: dict[str, str] = {
    "pause": "pause",
    "resume": "resume",
    "out": "clock_out",
    "confirm": "confirm",
    "reopen": "reopen",
}


def _session_button(action: str) -> ComponentHandler:
    function_name = _SESSION_ACTIONS[action]

    async def handle(
        db: AsyncSession, interaction: ComponentInteraction, ref: str
    ) -> dict[str, Any]:
        session_id = row_id(ref)
        run: SessionAction = getattr(sessions, function_name)
        # The domain call locks the user's row first (two clicks serialise there) and raises
        # Conflict before writing anything, so no savepoint is needed to re-read the card.
        try:
            outcome = await run(db, interaction.user_id, session_id, username=interaction.username)
        except Conflict as conflict:
            return await _stale_card_or_raise(db, interaction, session_id, action, conflict)
        return _card_answer(interaction, outcome.session, outcome.notice)

    handle.__name__ = f"{action}_button"
    return handle


def _modal_opener(action: str, modal: Callable[[Session], dict[str, Any]]) -> ComponentHandler:
    """A button that opens a modal about its session, unless the card is out of date."""

    async def handle(
        db: AsyncSession, interaction: ComponentInteraction, ref: str
    ) -> dict[str, Any]:
        session = await sessions.get(db, interaction.user_id, row_id(ref))
        if action not in views.actions_for(session):
            return _card_answer(interaction, session, STALE_CARD)
        return modal(session)

    handle.__name__ = f"open_{action}"
    return handle


open_adjust_time = _modal_opener(
    "adjust_time", lambda session: views.adjust_time_modal(session, clock.now())
)
open_edit_goal = _modal_opener("edit_purpose", views.edit_goal_modal)


async def submit_adjust_time(
    db: AsyncSession, interaction: ModalInteraction, ref: str
) -> dict[str, Any]:
    session_id = row_id(ref)
    value = interaction.data.values().get("duration", "")
    try:  # as for the buttons: locked by the domain call, Conflict before any write
        outcome = await sessions.adjust_time(
            db, interaction.user_id, session_id, value, username=interaction.username
        )
    except Conflict as conflict:
        return await _stale_card_or_raise(db, interaction, session_id, "adjust_time", conflict)
    return _card_answer(interaction, outcome.session, outcome.notice)


async def submit_edit_goal(
    db: AsyncSession, interaction: ModalInteraction, ref: str
) -> dict[str, Any]:
    session_id = row_id(ref)
    goal = interaction.data.values().get("purpose", "")  # the field Discord users see
    outcome = await sessions.edit_goal(
        db, interaction.user_id, session_id, goal, username=interaction.username
    )
    return _card_answer(interaction, outcome.session, outcome.notice)


def _monday(ref: str) -> date:
    try:
        monday = parse_week(ref)
    except InvalidInput:
        monday = None
    if monday is None:
        raise UnsupportedComponent(ref)
    return monday


def _in_place(message: dict[str, Any]) -> dict[str, Any]:
    message.pop("flags", None)  # an update keeps the message as private as it was
    return views.update(message)


async def show_week(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """◀ ▶ on the week view: the same message, showing another week."""
    report = await allocation.week_report(db, interaction.user_id, week=_monday(ref))
    return _in_place(period_views.week_report_message(report))


async def keep_going(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """Keep going on a reminder: the card, saying when the next reminder comes."""
    session_id = row_id(ref)
    try:
        session = await sessions.keep_going(
            db, interaction.user_id, session_id, username=interaction.username
        )
    except Conflict as conflict:
        return await _stale_card_or_raise(db, interaction, session_id, views.SNOOZE, conflict)
    if session.remind_at is None:
        notice = "Keep going! Reminders are off, so I won't ask again."
    else:
        notice = f"Keep going! I'll ask again <t:{int(session.remind_at.timestamp())}:R>."
    return _card_answer(interaction, session, notice)


async def plan_week(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """Plan this week, from a weekly summary: this week's plan, privately, with a button
    that copies the plan of the week summarised (`ref`)."""
    source = _monday(ref)
    report = await allocation.week_report(db, interaction.user_id)
    planned = await allocation.has_plan(db, interaction.user_id, source)
    return views.reply(period_views.plan_message(report, source, planned))


async def copy_plan(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """Copy the plan of the week of `ref` to this week; the week view shows the result."""
    copied = await allocation.copy_plan(
        db, interaction.user_id, _monday(ref), username=interaction.username
    )
    return _in_place(period_views.copied_plan_message(copied))


async def review_sessions(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """The clicker's sessions waiting for review, after session `ref`. From the summary
    (`review:0`) the list is a new private message; its More button turns the page."""
    after = row_id(ref)
    page = await history.awaiting_review(
        db, interaction.user_id, after=after, limit=period_views.REVIEW_PAGE
    )
    message = period_views.review_list_message(page, clock.now())
    return views.reply(message) if after == 0 else _in_place(message)


async def open_card(
    db: AsyncSession, interaction: ComponentInteraction, ref: str
) -> dict[str, Any]:
    """One session's card, privately, with its usual buttons (the review list's buttons)."""
    session = await sessions.get(db, interaction.user_id, row_id(ref))
    card = views.session_card(session, clock.now())
    card["flags"] = views.EPHEMERAL
    return views.reply(card)


COMPONENT_HANDLERS: dict[str, ComponentHandler] = {
    **{action: _session_button(action) for action in _SESSION_ACTIONS},
    "adjust_time": open_adjust_time,
    "edit_purpose": open_edit_goal,
    switch.SWITCH: switch.switch_button,
    period_views.WEEK: show_week,
    views.SNOOZE: keep_going,
    period_views.PLAN: plan_week,
    period_views.PLAN_COPY: copy_plan,
    period_views.REVIEW: review_sessions,
    period_views.CARD: open_card,
}

# Actions whose answer is a modal: Discord allows no deferral before a modal.
MODAL_OPENERS: set[str] = {"adjust_time", "edit_purpose"}

MODAL_HANDLERS: dict[str, ModalHandler] = {
    "adjust_time": submit_adjust_time,
    "edit_purpose": submit_edit_goal,
}
