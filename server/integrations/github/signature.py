"""GitHub's delivery signature: HMAC-SHA256 of the raw body in `X-Hub-Signature-256`."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from app.config import get_settings
from app.errors import NotConfigured, Unauthorized


async def verified_body(request: Request) -> bytes:
    """The raw body of a delivery signed with GITHUB_WEBHOOK_SECRET, checked before parsing.

    503 when no secret is configured (the endpoint would otherwise accept anything), 401
    for a missing or wrong signature; the comparison is constant-time.
    """
    secret = get_settings().github_webhook_secret
    if secret is None:
        raise NotConfigured("GitHub webhooks are not configured on this server.")
    signature = request.headers.get("x-hub-signature-256", "")
    if not signature.startswith("sha256="):
        raise Unauthorized("Missing X-Hub-Signature-256 header.")
    body = await request.body()
    expected = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), f"sha256={expected}".encode()):
        raise Unauthorized("Invalid X-Hub-Signature-256 signature.")
    return body
