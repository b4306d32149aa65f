"""Discord's 3-second deadline: answer in time, or defer and finish with a follow-up.

The work runs as its own task. If it has not finished by `DEADLINE_SECONDS` the request is
answered "deferred" and the task completes later, editing the deferred answer through the
interaction webhook. On Vercel `wait_until` keeps the function alive for that; elsewhere
the task is kept in `_background` so it is neither collected nor forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from server.integrations.discord import views
from server.integrations.discord.client import DiscordClient

logger = logging.getLogger(__name__)

# Discord waits 3 s for the first answer; leave room for the network both ways.
DEADLINE_SECONDS = 2.0

_background: set[asyncio.Task[Any]] = set()

WaitUntil = Callable[[Awaitable[Any]], None]


def _vercel_wait_until() -> WaitUntil | None:
    try:
        from vercel.functions import wait_until  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return wait_until  # type: ignore[no-any-return,unused-ignore]


def keep_running(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Run `coroutine` past the response: tracked here, and announced to Vercel if present."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
    wait_until = _vercel_wait_until()
    if wait_until is not None:
        try:
            wait_until(task)
        except Exception:  # outside a Vercel request there is no context to extend
            logger.debug("wait_until unavailable; the task runs in the background")
    return task


async def drain() -> None:
    """Wait for every follow-up still running (tests, and a clean shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


def is_private(response: dict[str, Any]) -> bool:
    data = response.get("data")
    return isinstance(data, dict) and bool((data.get("flags") or 0) & views.EPHEMERAL)


def deferred_message(*, private: bool) -> dict[str, Any]:
    if private:
        return {"type": views.DEFERRED_CHANNEL_MESSAGE, "data": {"flags": views.EPHEMERAL}}
    return {"type": views.DEFERRED_CHANNEL_MESSAGE}


def deferred_update() -> dict[str, Any]:
    return {"type": views.DEFERRED_UPDATE_MESSAGE}


TOO_SLOW_FOR_MODAL = (
    "That took too long to open, so nothing was changed. Please press the button again."
)


async def deliver(token: str, deferred: dict[str, Any], response: dict[str, Any]) -> None:
    """Turn the final answer into the follow-up calls that complete a deferred one."""
    client = DiscordClient.from_settings()
    kind = response.get("type")
    data: dict[str, Any] = response.get("data") or {}
    if kind == views.MODAL:
        # A modal can only be the first answer; ask for another press instead.
        await client.send_followup(token, views.notice_message(TOO_SLOW_FOR_MODAL))
        return
    if deferred["type"] == views.DEFERRED_UPDATE_MESSAGE:
        if kind == views.UPDATE_MESSAGE:
            await client.edit_original(token, data)
        else:
            # A private answer to a click must not replace the card everyone sees.
            await client.send_followup(token, data)
        return
    if is_private(response) and not is_private(deferred):
        # A public "thinking…" can't become private: remove it and answer privately.
        await client.delete_original(token)
        await client.send_followup(token, data)
        return
    await client.edit_original(token, data)


async def _complete(
    work: asyncio.Task[dict[str, Any]], token: str, deferred: dict[str, Any]
) -> None:
    try:
        response = await work
        await deliver(token, deferred, response)
    except Exception:
        logger.exception("discord follow-up failed")


async def answer_within_deadline(
    work: Coroutine[Any, Any, dict[str, Any]],
    *,
    token: str,
    deferred: dict[str, Any] | None,
) -> dict[str, Any]:
    """The work's answer if it is ready in time; otherwise `deferred`, completed later.

    With `deferred=None` (a modal must be the first answer) a late task is left to finish
    on its own and the user is asked to try again.
    """
    task: asyncio.Task[dict[str, Any]] = asyncio.get_running_loop().create_task(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout=DEADLINE_SECONDS)
    except TimeoutError:
        pass
    if deferred is None:
        keep_running(_finish_quietly(task))
        return views.reply(views.notice_message(TOO_SLOW_FOR_MODAL))
    keep_running(_complete(task, token, deferred))
    return deferred


async def _finish_quietly(task: asyncio.Task[dict[str, Any]]) -> None:
    try:
        await task
    except Exception:
        logger.exception("discord interaction failed after its deadline")
