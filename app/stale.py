"""Stale sessions: ones left running (or paused) for longer than anyone really works.

A stale session is ended as ENDED_UNCONFIRMED with `stop_reason = stale`, never confirmed:
its owner reviews the time (most of it was probably not work) before it counts. The cron
endpoint and `timetrack stop-stale` both run `sweep`, in the caller's transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, events, github, notifications, teams, throttle
from app import session as sessions
from app.clock import clock
from app.config import get_settings
from app.errors import InvalidInput
from app.models import Session, StopReason
from app.repositories.sessions import SessionRepository


@dataclass(frozen=True)
class Sweep:
    """What one maintenance run did: sessions ended as stale, idempotency records pruned."""

    hours: float
    stopped: list[Session]
    pruned_events: int


def stale_hours(hours: float | None = None) -> float:
    """The threshold in hours: the one asked for, else TIMETRACK_STALE_HOURS."""
    value = get_settings().stale_hours if hours is None else hours
    if not math.isfinite(value) or value <= 0:
        raise InvalidInput("The stale threshold must be a positive number of hours.")
    return value


def cutoff(hours: float, now: datetime) -> datetime:
    """Sessions that started before this instant have been active for more than `hours`."""
    return now - timedelta(hours=hours)


async def find(db: AsyncSession, *, hours: float | None = None) -> Sequence[Session]:
    """The sessions a run would stop now, oldest first; reads only (the dry run)."""
    limit = cutoff(stale_hours(hours), clock.now())
    return await SessionRepository(db).started_before(limit)


async def stop_for_user(db: AsyncSession, user_id: str, before: datetime) -> Session | None:
    """End the user's active session if it started before `before`; None if there is none.

    The user's row is locked first, then the active session is read again: between the
    unlocked search and the lock the owner may have clocked out, or even started afresh.
    """
    session = await sessions.locked_active(db, user_id)
    if session is None or session.started_at >= before:
        return None
    return await sessions.end_locked(db, session, StopReason.STALE)


async def stop(db: AsyncSession, *, hours: float | None = None) -> list[Session]:
    """End every stale session, oldest first. The caller owns (and commits) the transaction.

    Owners are locked in `accounts.in_lock_order`, so two runs at once, or a run and a
    multi-user GitHub event, queue behind each other instead of deadlocking.
    """
    before = cutoff(stale_hours(hours), clock.now())
    candidates = await SessionRepository(db).started_before(before)
    stopped = []
    for user_id in accounts.in_lock_order(session.user_id for session in candidates):
        session = await stop_for_user(db, user_id, before)
        if session is not None:
            stopped.append(session)
    stopped.sort(key=lambda session: (session.started_at, session.id))
    return stopped


async def sweep(db: AsyncSession, *, hours: float | None = None) -> Sweep:
    """The periodic maintenance: stop stale sessions, forget old idempotency records, switch
    offers, expired sign-ins, links and team invitations, failed sign-ins too old to count,
    and old scheduled messages."""
    threshold = stale_hours(hours)
    stopped = await stop(db, hours=threshold)
    pruned = await events.prune(db)
    await github.prune_offers(db)
    await accounts.prune_credentials(db)
    await teams.prune_invites(db)
    await throttle.prune(db)
    await notifications.prune(db)
    return Sweep(hours=threshold, stopped=stopped, pruned_events=pruned)
