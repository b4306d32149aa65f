"""Request bodies for the body-limit tests: streamed in chunks, counting what was read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from httpx import Response

from tests.ops.test_security_headers import assert_secured

CHUNK = 4096


@dataclass
class Streamed:
    """A body of `size` bytes sent in chunks; `pulled` is how much the server asked for."""

    size: int
    pulled: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        left = self.size
        while left > 0:
            piece = min(CHUNK, left)
            self.pulled += piece
            left -= piece
            yield b" " * piece


def assert_too_large(response: Response, limit: str) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "detail": f"The request body is larger than {limit}.",
    }
    assert_secured(response)
