from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Integer, Text, bindparam, delete, func, insert, literal, select

from app.models import AuthFailure
from app.repositories.base import Repository


@cache
def _nth_latest() -> Any:
    """Every request that signs in runs this first, so it is built once, on first use."""
    address = bindparam("address_given", type_=Text)
    return (
        select(AuthFailure.failed_at)
        .where(
            AuthFailure.address == address,
            AuthFailure.failed_at > bindparam("since", type_=DateTime(timezone=True)),
        )
        .order_by(AuthFailure.failed_at.desc())
        .offset(bindparam("skip", type_=Integer))
        .limit(1)
    )


class AuthFailureRepository(Repository):
    async def nth_latest_since(self, address: str, since: datetime, n: int) -> datetime | None:
        """When the address failed for the n-th last time after `since`; None if fewer times."""
        parameters = {"address_given": address, "since": since, "skip": n - 1}
        found: datetime | None = (
            await self.db.execute(_nth_latest(), parameters)
        ).scalar_one_or_none()
        return found

    async def add(self, address: str, at: datetime, *, since: datetime, limit: int) -> None:
        """Record a failure unless `limit` are already recorded after `since`, so an address
        that keeps failing cannot grow the table; older failures of the address go."""
        await self.db.execute(
            delete(AuthFailure).where(
                AuthFailure.address == address, AuthFailure.failed_at <= since
            )
        )
        recent = (
            select(func.count())
            .where(AuthFailure.address == address, AuthFailure.failed_at > since)
            .scalar_subquery()
        )
        await self.db.execute(
            insert(AuthFailure).from_select(
                ["address", "failed_at"],
                select(literal(address, Text), literal(at, DateTime(timezone=True))).where(
                    recent < limit
                ),
            )
        )

    async def prune(self, before: datetime) -> None:
        await self.db.execute(delete(AuthFailure).where(AuthFailure.failed_at <= before))
