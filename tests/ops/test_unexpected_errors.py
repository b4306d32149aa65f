"""A bug is answered like any other failure: a JSON 500 with the security headers, one log
record with the traceback, and a connection the client can go on using."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import health, history
from server.router import app
from tests.api.conftest import error_of, make_user
from tests.live import serving
from tests.ops.test_security_headers import assert_secured

INTERNAL = ("internal", "Something went wrong on our side. Nothing was changed.")


class Bug(RuntimeError):
    pass


async def broken(*args: object, **kwargs: object) -> object:
    raise Bug("a bug")


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_bug_in_a_route_is_a_secured_json_500_logged_once(
    client: AsyncClient,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice = await make_user(db, "1400000000000000051")
    monkeypatch.setattr(history, "page", broken)

    # The client fixture's transport raises whatever the app lets escape: none must.
    response = await client.get("/api/timelogs/", headers=alice.headers)

    assert response.status_code == 500
    assert error_of(response) == INTERNAL
    assert_secured(response)
    [record] = error_records(caplog)
    assert record.exc_info is not None and record.exc_info[0] is Bug
    assert record.getMessage() == "unhandled error on /api/timelogs/"


async def test_a_bug_outside_any_route_handler_is_answered_the_same(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(health, "report", broken)

    response = await client.get("/api/health")

    assert response.status_code == 500
    assert error_of(response) == INTERNAL
    assert_secured(response)
    assert len(error_records(caplog)) == 1


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open connection; the status and body of its answer."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    lengths = {name.lower(): value for name, value in headers.items()}
    body = await reader.readexactly(int(lengths["content-length"]))
    return int(lines[0].split()[1]), body


async def test_the_connection_stays_usable_after_a_500(
    committed: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(health, "report", broken)
    async with serving(app) as url:
        address = urlsplit(url)
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        try:
            first = await _exchange(reader, writer, "/api/health")
            second = await _exchange(reader, writer, "/api/nowhere")
        finally:
            writer.close()
            await writer.wait_closed()

    assert first[0] == 500 and b'"internal"' in first[1]
    assert second[0] == 404
    # Only our one record: the server itself saw no exception.
    assert len(error_records(caplog)) == 1
