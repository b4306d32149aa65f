"""The one clock of the service.

Every timestamp the domain writes comes from `clock.now()`, so tests can freeze and
advance time instead of sleeping. Times are whole seconds in UTC: durations are then
exact integers and agree between Python and SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC).replace(microsecond=0)

    def freeze(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a frozen time must be timezone-aware")
        self._frozen = at.astimezone(UTC).replace(microsecond=0)

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        if self._frozen is None:
            raise RuntimeError("only a frozen clock can be advanced")
        self._frozen += timedelta(seconds=seconds, **delta)
        return self._frozen

    def unfreeze(self) -> None:
        self._frozen = None

    @property
    def is_frozen(self) -> bool:
        return self._frozen is not None


clock = Clock()
