"""Security headers on every response.

The page is server-rendered HTML plus one ES module, so its policy can be strict: scripts
and styles only from our own origin, no inline script, no framing, no `<base>` tricks,
and forms post only back to us. JSON responses get the same headers; they cost nothing
there and keep a browser from sniffing a JSON body into something executable.

Consequence for the page: no `<script>` blocks, no `on...=` attributes, no `<style>`
blocks or `style="..."` attributes. Set sizes from the module (`element.style.width`,
which the policy allows) or with classes.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from app.config import get_settings
from server.asgi import HttpMiddleware

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)

# FastAPI's interactive docs (/docs) are Swagger UI from a CDN with an inline bootstrap
# script; they show only the API's own schema, so they get a looser policy of their own.
DOCS_PATH = "/docs"
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)

HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # For browsers that predate `frame-ancestors`.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Sent only when the public URL is https: over plain http (local use) it would be ignored
# at best, and at worst pin a development host name to https.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def policy_for(path: str) -> str:
    if path == DOCS_PATH or path.startswith(f"{DOCS_PATH}/"):
        return DOCS_CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds the headers a response does not set itself; a route may still override one."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = policy_for(scope.get("path", ""))
        https = get_settings().secure_cookies

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    app.add_middleware(SecurityHeadersMiddleware)
