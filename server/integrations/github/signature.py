"""GitHub's delivery signature: HMAC-SHA256 of the raw body in `X-Hub-Signature-256`.

A delivery may be signed with GITHUB_WEBHOOK_SECRET, which covers every repository, or
with a secret of one repository or organisation (`timetrack github secret add`), which
covers only that scope (`app.webhook_secrets`). The signature is checked before the body
is parsed; which secret signed it travels on with the body, so that the event is refused
if it is about an issue outside that secret's scope.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request

from app import webhook_secrets
from app.config import get_settings
from app.errors import NotConfigured, Unauthorized
from app.webhook_secrets import Scope
from server.auth import throttle
from server.transaction import Db


@dataclass(frozen=True)
class Signed:
    """A delivery's raw body, and the scope of the secret that signed it (None: the global
    secret, which covers everything)."""

    body: bytes
    scope: Scope | None


def _signature(secret: str, body: bytes) -> bytes:
    return f"sha256={hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}".encode()


async def verified_body(request: Request, db: Db) -> Signed:
    """The raw body of a delivery signed with a secret we know, checked before parsing.

    429 for a throttled address, before any secret is looked up; 503 when no secret is
    configured at all (the endpoint would otherwise accept anything); 401 for a missing or
    wrong signature, the wrong one counted against the sender. Comparisons take constant
    time.
    """
    await throttle.check(request, db)
    signers: list[tuple[Scope | None, str]] = list(await webhook_secrets.signers(db))
    secret = get_settings().github_webhook_secret
    if secret is not None:
        signers.insert(0, (None, secret.get_secret_value()))
    if not signers:
        raise NotConfigured("GitHub webhooks are not configured on this server.")
    signature = request.headers.get("x-hub-signature-256", "")
    if not signature.startswith("sha256="):
        raise Unauthorized("Missing X-Hub-Signature-256 header.")
    body = await request.body()
    for scope, key in signers:
        if hmac.compare_digest(signature.encode(), _signature(key, body)):
            return Signed(body, scope)
    throttle.refused(request, db)
    raise Unauthorized("Invalid X-Hub-Signature-256 signature.")
