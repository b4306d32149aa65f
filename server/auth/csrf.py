"""The page's CSRF token: an HMAC of its sign-in cookie's token.

The page embeds it in a meta tag and sends it back as `X-CSRF-Token` (or, for the
sign-out form, a form field) on every unsafe request; a cross-site form or script can
neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac

from app.config import get_settings
from app.errors import Forbidden

CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(Forbidden):
    code = "csrf"


def token_for(sign_in: str) -> str:
    """The CSRF token of the sign-in whose cookie holds `sign_in`."""
    message = f"csrf:{sign_in}".encode()
    return hmac.new(get_settings().signing_key().encode(), message, hashlib.sha256).hexdigest()


def matches(sign_in: str, supplied: str | None) -> bool:
    if not supplied:
        return False
    return hmac.compare_digest(token_for(sign_in).encode(), supplied.strip().encode())
