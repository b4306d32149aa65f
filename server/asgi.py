"""The shape every middleware of the app shares: pure ASGI, acting on HTTP requests only.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, so streaming responses and work that
outlives the response pass through untouched; lifespan and other scopes go straight on.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
