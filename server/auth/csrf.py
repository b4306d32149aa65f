"""The page's CSRF token: an HMAC of its sign-in cookie's nonce.

The page embeds it in a meta tag and sends it back as `X-CSRF-Token` (or, for the
sign-out form, a form field) on every unsafe request; a cross-site form or script can
neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac

from app.config import get_settings
from app.errors import Forbidden
from server.auth.cookie import PageSession

CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(Forbidden):
    code = "csrf"


def token_for(session: PageSession) -> str:
    message = f"csrf:{session.user_id}:{session.nonce}".encode()
    return hmac.new(get_settings().signing_key().encode(), message, hashlib.sha256).hexdigest()


def matches(session: PageSession, supplied: str | None) -> bool:
    if not supplied:
        return False
    return hmac.compare_digest(token_for(session).encode(), supplied.strip().encode())
