"""The scheduler's secret: `Authorization: Bearer $CRON_SECRET`, as Vercel's cron sends it.

Without CRON_SECRET the scheduled endpoints are off (503) rather than open to anyone. The
secret is checked before any other work, behind the sign-in throttle; a wrong one counts
against the sender.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from app.config import get_settings
from app.errors import NotConfigured
from server.auth import throttle
from server.transaction import Db


async def require_cron_secret(request: Request, db: Db) -> None:
    """401 unless the secret is sent."""
    secret = get_settings().cron_secret
    if secret is None:
        raise NotConfigured("Cron endpoints are off: CRON_SECRET is not set on this server.")
    await throttle.check(request, db)
    sent = request.headers.get("authorization")
    scheme, _, credentials = (sent or "").partition(" ")
    expected = secret.get_secret_value().encode()
    # compare_digest takes the same time wherever the first difference is.
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.encode(), expected):
        if sent:
            throttle.refused(request, db)
        raise HTTPException(
            401,
            "Send `Authorization: Bearer <CRON_SECRET>`.",
            headers={"WWW-Authenticate": 'Bearer realm="timetrack cron"'},
        )
