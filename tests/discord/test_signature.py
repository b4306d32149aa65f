"""Every request is verified with Ed25519 over timestamp + raw body before anything else."""

from __future__ import annotations

import json
import time

import pytest
from httpx import AsyncClient
from nacl.signing import SigningKey

from app.db import Database
from server.body_limit import DEFAULT_MAX_BYTES
from tests.bodies import assert_too_large
from tests.discord.support import Discord, Signer, command

PING = json.dumps({"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1})


def _error(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "detail"}
    return body  # type: ignore[no-any-return]


async def test_valid_ping_is_ponged_without_the_database(
    discord_env: pytest.MonkeyPatch, http: AsyncClient, signer: Signer
) -> None:
    def no_database(self: Database) -> None:
        raise AssertionError("PING must not touch the database")

    discord_env.setattr(Database, "sessions", property(no_database))
    discord_env.setattr(Database, "engine", property(no_database))
    body = PING.encode()
    response = await http.post("/api/discord", content=body, headers=signer.headers(body))
    assert response.status_code == 200
    assert response.json() == {"type": 1}


async def test_missing_headers_are_401(discord: Discord) -> None:
    body = PING.encode()
    for drop in ("X-Signature-Ed25519", "X-Signature-Timestamp"):
        headers = discord.signer.headers(body)
        del headers[drop]
        response = await discord.raw(body, headers)
        assert response.status_code == 401
        assert _error(response)["error"] == "unauthorized"


async def test_bad_hex_signature_is_401(discord: Discord) -> None:
    body = PING.encode()
    headers = discord.signer.headers(body) | {"X-Signature-Ed25519": "zz" * 64}
    response = await discord.raw(body, headers)
    assert response.status_code == 401
    assert _error(response)["error"] == "unauthorized"


async def test_short_signature_is_401(discord: Discord) -> None:
    body = PING.encode()
    headers = discord.signer.headers(body) | {"X-Signature-Ed25519": "ab" * 10}
    assert (await discord.raw(body, headers)).status_code == 401


async def test_signature_from_another_key_is_401(discord: Discord) -> None:
    body = PING.encode()
    stranger = Signer(SigningKey.generate())
    response = await discord.raw(body, stranger.headers(body))
    assert response.status_code == 401


async def test_tampered_body_is_401(discord: Discord, sessions_of: object) -> None:
    body = json.dumps(command("session in", subject="honest")).encode()
    headers = discord.signer.headers(body)
    tampered = body.replace(b"honest", b"forged")
    response = await discord.raw(tampered, headers)
    assert response.status_code == 401
    assert await sessions_of("1400000000000000004") == []  # type: ignore[operator]


async def test_stale_and_future_timestamps_are_401(discord: Discord) -> None:
    body = PING.encode()
    for skew in (-301, 301, -86400):
        headers = discord.signer.headers(body, timestamp=int(time.time()) + skew)
        response = await discord.raw(body, headers)
        assert response.status_code == 401, skew
        assert "stale" in _error(response)["detail"].lower()


async def test_slightly_skewed_timestamp_is_accepted(discord: Discord) -> None:
    body = PING.encode()
    headers = discord.signer.headers(body, timestamp=int(time.time()) - 60)
    assert (await discord.raw(body, headers)).json() == {"type": 1}


async def test_malformed_timestamp_is_401(discord: Discord) -> None:
    body = PING.encode()
    for stamp in ("soon", "-5", "1" * 40, "１２３".encode()):
        headers = discord.signer.headers(body) | {"X-Signature-Timestamp": stamp}
        assert (await discord.raw(body, headers)).status_code == 401, stamp


async def test_unset_public_key_is_503(
    settings_env: pytest.MonkeyPatch, http: AsyncClient, signer: Signer
) -> None:
    settings_env.delenv("DISCORD_PUBLIC_KEY", raising=False)
    body = PING.encode()
    response = await http.post("/api/discord", content=body, headers=signer.headers(body))
    assert response.status_code == 503
    assert _error(response)["error"] == "not_configured"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": 2}',
        b'{"type": 99, "id": "1", "token": "t", "user": {"id": "1"}}',
        json.dumps({"type": 2, "id": "1", "token": "t", "data": {"name": "web"}}).encode(),
        json.dumps(
            {"type": 3, "id": "1", "token": "t", "user": {"id": "1"}, "data": {"x": 1}}
        ).encode(),
    ],
    ids=["text", "array", "no-fields", "unknown-type", "no-caller", "component-without-id"],
)
async def test_malformed_body_with_valid_signature_is_400(discord: Discord, body: bytes) -> None:
    response = await discord.raw(body)
    assert response.status_code == 400
    assert _error(response)["error"] == "bad_request"


async def test_a_body_over_64_kib_is_413_whatever_its_signature(
    discord_env: pytest.MonkeyPatch, http: AsyncClient, signer: Signer
) -> None:
    payload = command("session in", subject="x")
    payload["padding"] = "x" * DEFAULT_MAX_BYTES
    body = json.dumps(payload).encode()

    response = await http.post("/api/discord", content=body, headers=signer.headers(body))

    assert_too_large(response, "64 KiB")
