"""POST /api/discord: Discord's interactions endpoint.

Verify the signature, parse, route by interaction type, and answer within Discord's
deadline. The handler owns its transaction instead of using `get_db`, because the work may
outlive the request when it has to be deferred. Each interaction is recorded in the same
transaction as its effects, so a repeat is answered as the first time and applied once.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, events, timezones
from app.db import database, is_database_outage, unit_of_work
from app.errors import NotOwner, TimetrackError
from server.errors import error_body
from server.integrations.discord import deferral, views
from server.integrations.discord.components import (
    COMPONENT_HANDLERS,
    MODAL_HANDLERS,
    MODAL_OPENERS,
    NO_LONGER_SUPPORTED,
)
from server.integrations.discord.handlers import COMMANDS_BY_PATH
from server.integrations.discord.payloads import (
    AUTOCOMPLETE,
    AutocompleteInteraction,
    CommandInteraction,
    ComponentInteraction,
    Interaction,
    ModalInteraction,
    Ping,
    parse_interaction,
    unreadable_type,
)
from server.integrations.discord.refs import UnsupportedComponent, split_custom_id
from server.integrations.discord.signature import verified_body
from server.logging import identify

logger = logging.getLogger(__name__)

router = APIRouter(tags=["discord"])

DATABASE_DOWN = (
    "The database is temporarily unavailable; nothing was changed. Try again in a minute."
)
SOMETHING_WENT_WRONG = "Something went wrong on our side. Nothing was changed."
ANSWERED_ALREADY = "This interaction was answered already. Nothing was changed."
NOT_YOURS = "This session belongs to someone else."
UNKNOWN_COMMAND = "I don't know that command. It may have been removed; check `/` for the list."
MODAL_NO_LONGER_SUPPORTED = "This form is no longer supported."
CANT_READ = (
    "I can't read that: it contains characters I cannot store, such as a NUL. Nothing was changed."
)

Actionable = CommandInteraction | ComponentInteraction | ModalInteraction


class _AlreadyAnswered(Exception):
    """This interaction id was recorded before: our work is rolled back, the first answer wins."""


def _error_reply(text: str) -> dict[str, Any]:
    return views.reply(views.error_message(text))


def _render_error(error: TimetrackError) -> str:
    # Details can quote what users typed (subject names); show it literally.
    return NOT_YOURS if isinstance(error, NotOwner) else views.escape(error.detail)


async def _dispatch(db: AsyncSession, interaction: Actionable) -> dict[str, Any]:
    if isinstance(interaction, CommandInteraction):
        return await COMMANDS_BY_PATH[interaction.path()].run(db, interaction)
    action, ref = split_custom_id(interaction.data.custom_id)
    if isinstance(interaction, ComponentInteraction):
        return await COMPONENT_HANDLERS[action](db, interaction, ref)
    return await MODAL_HANDLERS[action](db, interaction, ref)


def _replayable(interaction: Actionable, response: dict[str, Any]) -> dict[str, Any]:
    """What a repeat of the interaction gets: the answer itself, unless it holds a one-time
    link, which must not be readable from the database or handed out twice."""
    if isinstance(interaction, CommandInteraction):
        instead = COMMANDS_BY_PATH[interaction.path()].repeat_answer
        if instead is not None:
            return views.reply(views.notice_message(instead))
    return response


async def _apply(interaction: Actionable) -> dict[str, Any]:
    async with database.sessions() as db, unit_of_work(db):
        response = await _dispatch(db, interaction)
        recorded = events.Answer(_replayable(interaction, response))
        kind, user_id = events.DISCORD_INTERACTION, interaction.user_id
        if not await events.record(db, kind, interaction.id, recorded, user_id=user_id):
            raise _AlreadyAnswered
        return response


async def _first_answer(interaction: Actionable) -> dict[str, Any]:
    """The answer stored for this interaction id, if it was this user's interaction."""
    async with database.sessions() as db:
        found = await events.find(db, events.DISCORD_INTERACTION, interaction.id)
    if found is None:
        return {}
    if found.user_id != interaction.user_id:
        return _error_reply(ANSWERED_ALREADY)
    return dict(found.response)


async def answer(interaction: Actionable) -> dict[str, Any]:
    """The callback body for an interaction. Never raises: every failure is a private reply."""
    try:
        try:
            return await _apply(interaction)
        except _AlreadyAnswered:
            return await _first_answer(interaction) or _error_reply(SOMETHING_WENT_WRONG)
        except UnsupportedComponent:
            return _error_reply(NO_LONGER_SUPPORTED)
        except TimetrackError as error:
            # A repeat of an interaction that succeeded fails now; it should answer as before.
            return await _first_answer(interaction) or _error_reply(_render_error(error))
    except Exception as error:
        if is_database_outage(error):
            logger.warning("discord: database unavailable (%s)", type(error).__name__)
            return _error_reply(DATABASE_DOWN)
        logger.exception("discord: interaction failed")
        return _error_reply(SOMETHING_WENT_WRONG)


def _unroutable(interaction: Actionable) -> dict[str, Any] | None:
    """The answer to something no handler exists for, found without touching the database."""
    if isinstance(interaction, CommandInteraction):
        return None if interaction.path() in COMMANDS_BY_PATH else _error_reply(UNKNOWN_COMMAND)
    action, _ = split_custom_id(interaction.data.custom_id)
    if isinstance(interaction, ComponentInteraction):
        return None if action in COMPONENT_HANDLERS else _error_reply(NO_LONGER_SUPPORTED)
    return None if action in MODAL_HANDLERS else _error_reply(MODAL_NO_LONGER_SUPPORTED)


def _deferred_answer(interaction: Actionable) -> dict[str, Any] | None:
    """What to answer at the deadline; None where only an immediate answer is allowed."""
    if isinstance(interaction, CommandInteraction):
        private = COMMANDS_BY_PATH[interaction.path()].private
        return deferral.deferred_message(private=private)
    if isinstance(interaction, ComponentInteraction):
        action, _ = split_custom_id(interaction.data.custom_id)
        return None if action in MODAL_OPENERS else deferral.deferred_update()
    if interaction.message is not None:
        return deferral.deferred_update()
    return deferral.deferred_message(private=False)


async def _suggestions(interaction: AutocompleteInteraction) -> dict[str, Any]:
    focused = interaction.focused()
    if focused is None:
        return views.choices([])
    typed = "" if focused.value is None else str(focused.value)
    if focused.name == "zone":
        return views.choices(timezones.names(typed))
    if focused.name != "subject":
        return views.choices([])
    try:
        async with database.sessions() as db:
            names = await accounts.subject_names(db, interaction.user_id, typed)
    except Exception as error:
        if not is_database_outage(error):
            logger.exception("discord: autocomplete failed")
        return views.choices([])
    return views.choices(list(names))


def _describe(interaction: Interaction) -> str:
    if isinstance(interaction, CommandInteraction | AutocompleteInteraction):
        return "/" + " ".join(interaction.path())
    if isinstance(interaction, ComponentInteraction | ModalInteraction):
        return split_custom_id(interaction.data.custom_id)[0]
    return "?"


@router.post("/api/discord")
async def interactions(
    request: Request, body: Annotated[bytes, Depends(verified_body)]
) -> JSONResponse:
    try:
        interaction = parse_interaction(body)
    except ValidationError as error:
        kind = unreadable_type(error)
        if kind is None:
            return JSONResponse(
                error_body("bad_request", "The body is not a Discord interaction."),
                status_code=400,
            )
        # Signed by Discord, so a person sent it: tell them, privately, and move on.
        logger.warning("discord: an interaction holds text that cannot be stored; not read")
        return JSONResponse(views.choices([]) if kind == AUTOCOMPLETE else _error_reply(CANT_READ))
    if isinstance(interaction, Ping):
        return JSONResponse({"type": views.PONG})
    identify(request, interaction.user_id)
    logger.debug("discord interaction %s type=%s", _describe(interaction), interaction.type)
    if isinstance(interaction, AutocompleteInteraction):
        response = await deferral.answer_within_deadline(
            _suggestions(interaction), token=interaction.token, deferred=None
        )
        if response.get("type") != views.AUTOCOMPLETE_RESULT:
            response = views.choices([])  # a late list is useless; an empty one is honest
        return JSONResponse(response)
    unroutable = _unroutable(interaction)
    if unroutable is not None:
        return JSONResponse(unroutable)
    response = await deferral.answer_within_deadline(
        answer(interaction), token=interaction.token, deferred=_deferred_answer(interaction)
    )
    return JSONResponse(response)
