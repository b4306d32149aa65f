"""The process's one client for calls to other services (Discord's and GitHub's APIs).

One client keeps its connections, and their TLS sessions, open from call to call; a client
per call paid for a new connection every time. It is made on first use, which is also when
httpx is imported: a cold start that answers a Discord PING never needs either. It belongs to
the event loop it was made on (a command-line run has a loop of its own) and is closed when
the app shuts down.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

_client: httpx.AsyncClient | None = None
_loop: asyncio.AbstractEventLoop | None = None


def client() -> httpx.AsyncClient:
    """The shared client; each call passes its own timeout."""
    global _client, _loop
    loop = asyncio.get_running_loop()
    if _client is None or _loop is not loop or _client.is_closed:
        import httpx

        _client, _loop = httpx.AsyncClient(), loop
    return _client


async def aclose() -> None:
    """Close the client if this loop made it (at shutdown, and at the end of a command)."""
    global _client, _loop
    if _client is not None and _loop is asyncio.get_running_loop():
        await _client.aclose()
    _client = _loop = None
