"""Discord's request signature: Ed25519 over `timestamp + raw body`, checked first.

A request Discord signed never touches the database here: its PING must be answered even
while the database sleeps. Only a request that fails the check is counted against its
sender's address, and once that address is over the limit it gets 429 instead of 401
(`server.auth.throttle`). An Ed25519 signature cannot be guessed, so checking the throttle
only on failure lets no one through who should not be.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import NoReturn

from fastapi import Request
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from app.config import get_settings
from app.db import transaction
from app.errors import NotConfigured, Unauthorized
from server.auth import throttle

# Seconds either side of now, as Discord recommends: an old signed request is a replay.
MAX_AGE_SECONDS = 300


@lru_cache(maxsize=4)
def _verify_key(public_key_hex: str) -> VerifyKey:
    return VerifyKey(bytes.fromhex(public_key_hex))


async def verified_body(request: Request) -> bytes:
    """The raw body of a request Discord signed, or 401 before anything else is read.

    Headers are read by hand so a missing one is 401, not a validation 422. The age check
    uses the wall clock, never the domain clock, because it is about the network request.
    """
    public_key = get_settings().discord_public_key
    if public_key is None:
        raise NotConfigured("Discord is not configured on this server (DISCORD_PUBLIC_KEY).")
    signature = request.headers.get("x-signature-ed25519")
    timestamp = request.headers.get("x-signature-timestamp")
    if not signature or not timestamp:
        raise Unauthorized("Missing Discord signature headers.")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        await _refuse(request, "Malformed Discord signature timestamp.")
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        await _refuse(request, "Stale Discord signature timestamp.")
    try:
        signature_bytes = bytes.fromhex(signature)
    except ValueError:
        await _refuse(request, "Malformed Discord signature.")
    body = await request.body()
    try:
        _verify_key(public_key).verify(timestamp.encode() + body, signature_bytes)
    except (CryptoError, ValueError, TypeError):
        await _refuse(request, "Invalid Discord signature.")
    return body


async def _refuse(request: Request, detail: str) -> NoReturn:
    """401, counted against the sender; 429 instead once the sender is over the limit."""
    async with transaction() as db:
        await throttle.check(request, db)
        throttle.refused(request, db)
    raise Unauthorized(detail)
