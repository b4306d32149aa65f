"""The scheduler's secret: `Authorization: Bearer $CRON_SECRET`, as Vercel's cron sends it.

Without CRON_SECRET the scheduled endpoints are off (503) rather than open to anyone.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from app.config import get_settings
from app.errors import NotConfigured


def require_cron_secret(request: Request) -> None:
    """401 unless the secret is sent; checked before any database work."""
    secret = get_settings().cron_secret
    if secret is None:
        raise NotConfigured("Cron endpoints are off: CRON_SECRET is not set on this server.")
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    expected = secret.get_secret_value().encode()
    # compare_digest takes the same time wherever the first difference is.
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.encode(), expected):
        raise HTTPException(
            401,
            "Send `Authorization: Bearer <CRON_SECRET>`.",
            headers={"WWW-Authenticate": 'Bearer realm="timetrack cron"'},
        )
