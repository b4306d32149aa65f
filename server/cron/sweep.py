"""The stale sweep as the scheduler and `timetrack stop-stale` run it: stop, then tell."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app import stale
from server import notify


def _hours(hours: float) -> str:
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def stale_notice(hours: float) -> notify.Notice:
    return notify.Notice(
        f"I clocked you out: this session had been open for more than {_hours(hours)}. "
        "Most of that was probably not work, so adjust the time if needed, then confirm it."
    )


async def sweep(db: AsyncSession, *, hours: float | None = None) -> stale.Sweep:
    """Stop stale sessions in the caller's transaction; their owners are told after it."""
    swept = await stale.sweep(db, hours=hours)
    for session in swept.stopped:
        notify.session_card(db, session, stale_notice(swept.hours))
    return swept
