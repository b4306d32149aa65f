"""Measured, paused and effective time of a session: the one definition.

- measured: from the start to the end (or to now, while active);
- paused: the pauses taken, including one still open;
- effective: the override when the owner corrected it, else measured minus paused, and
  never below zero.

`session_times` serves every front door; `effective_seconds_sql` is the same rule for
aggregates inside PostgreSQL, and a property test holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, case, cast, func, literal

from app.models import Session, SessionStatus


@dataclass(frozen=True, slots=True)
class SessionTimes:
    measured: int
    paused: int
    effective: int


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, int((later - earlier).total_seconds()))


def paused_seconds(session: Session, now: datetime) -> int:
    """The pauses taken so far, a pause still open included (what a resume makes final)."""
    paused = session.total_paused_seconds
    if session.status == SessionStatus.PAUSED and session.pause_started_at is not None:
        paused += _seconds(now, session.pause_started_at)
    return paused


def session_times(session: Session, now: datetime) -> SessionTimes:
    end = session.ended_at or now
    measured = _seconds(end, session.started_at)
    paused = paused_seconds(session, now)
    if session.effective_override_seconds is not None:
        effective = session.effective_override_seconds
    else:
        effective = max(0, measured - paused)
    return SessionTimes(measured=measured, paused=paused, effective=effective)


def _seconds_sql(later: Any, earlier: Any) -> ColumnElement[int]:
    # date_part's double holds whole seconds exactly, and is cheaper than EXTRACT's numeric.
    return func.greatest(0, cast(func.floor(func.date_part("epoch", later - earlier)), Integer))


def effective_seconds_sql(now: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
    """The effective seconds of each session row at `now` (a time, or a bound parameter)."""
    at = now if isinstance(now, ColumnElement) else literal(now, DateTime(timezone=True))
    measured = _seconds_sql(func.coalesce(Session.ended_at, at), Session.started_at)
    open_pause = case(
        (Session.status == SessionStatus.PAUSED.value, _seconds_sql(at, Session.pause_started_at)),
        else_=0,
    )
    return func.coalesce(
        Session.effective_override_seconds,
        func.greatest(0, measured - Session.total_paused_seconds - open_pause),
    )
