"""Throttled sign-in: a client address that keeps failing is refused for a while.

`guard` runs before any credential is looked up and answers 429 with Retry-After while the
address is over the limit (`app.throttle`); `refused` counts a credential that failed. The
count is kept whatever becomes of the request's transaction (`app.db.after_transaction`).

The address is the socket's peer. Behind a proxy that sets X-Forwarded-For itself, which
TIMETRACK_TRUSTED_PROXY declares, it is that header's first hop; anywhere else the header
is the client's to invent, so it is ignored. IPv6 addresses count per /64, the block a
single host usually has to itself.

If the database cannot be reached the throttle stands aside: what needs the database fails
on its own, and what does not (a signature, a secret) still answers.
"""

from __future__ import annotations

import ipaddress
import logging

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app import throttle
from app.config import get_settings
from app.db import after_transaction, is_database_outage
from app.errors import TooManyRequests
from server.transaction import Db

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"


def _counted_as(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_address(request: Request) -> str:
    """The address failures are counted against."""
    if get_settings().trusted_proxy:
        first_hop = request.headers.get("x-forwarded-for", "").split(",")[0]
        forwarded = _counted_as(first_hop)
        if forwarded is not None:
            return forwarded
    peer = request.client.host if request.client is not None else ""
    return _counted_as(peer) or UNKNOWN


def _wait_message(seconds: int) -> str:
    return (
        "Too many failed sign-in attempts from your address. "
        f"Try again in {seconds} second{'' if seconds == 1 else 's'}."
    )


async def check(request: Request, db: AsyncSession) -> None:
    """429 while the caller's address is over the limit; before any credential is read."""
    try:
        wait = await throttle.retry_after(db, client_address(request))
    except Exception as error:
        if not is_database_outage(error):
            raise
        await db.rollback()
        logger.warning("sign-in throttle skipped: database unavailable")
        return
    if wait is not None:
        raise TooManyRequests(_wait_message(wait), retry_after=wait)


def wait(seconds: int | None) -> None:
    """429 when a statement that checked the throttle along with a credential found the
    address over the limit (`seconds` to wait)."""
    if seconds is not None:
        raise TooManyRequests(_wait_message(seconds), retry_after=seconds)


async def guard(request: Request, db: Db) -> None:
    """`check` as a route dependency."""
    await check(request, db)


def refused(request: Request, db: AsyncSession) -> None:
    """Count a credential from this request that failed, even if the request rolls back."""
    address = client_address(request)

    async def record(session: AsyncSession) -> None:
        await throttle.record_failure(session, address)

    after_transaction(db, record)
