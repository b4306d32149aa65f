"""Every body is capped while it is read: 64 KiB for REST and the page (Discord's and
GitHub's caps are tested with their endpoints). A larger body is a 413 with the usual error
body, and no more than the cap is ever read; a `Content-Length` over the cap is refused
without reading at all."""

from __future__ import annotations

import json

import pytest
from httpx import AsyncClient

from server.body_limit import DEFAULT_MAX_BYTES
from tests.api.conftest import ApiUser
from tests.bodies import CHUNK, Streamed, assert_too_large


def padded_start(size: int) -> bytes:
    """A clock-in body of exactly `size` bytes (padded with spaces, which JSON ignores)."""
    body = json.dumps({"subject": "padded"}).encode()
    return body + b" " * (size - len(body))


async def test_a_rest_body_at_the_cap_is_read_and_one_byte_more_is_413(
    client: AsyncClient, alice: ApiUser
) -> None:
    headers = {"Content-Type": "application/json", **alice.headers}

    at_cap = await client.post(
        "/api/timelogs/start/", content=padded_start(DEFAULT_MAX_BYTES), headers=headers
    )
    over = await client.post(
        "/api/timelogs/start/", content=padded_start(DEFAULT_MAX_BYTES + 1), headers=headers
    )

    assert at_cap.status_code == 201
    assert_too_large(over, "64 KiB")
    # Nothing of the refused request happened.
    assert (await client.get("/api/timelogs/", headers=alice.headers)).json()["count"] == 1


async def test_a_declared_length_over_the_cap_is_refused_without_reading(
    client: AsyncClient, alice: ApiUser
) -> None:
    body = Streamed(20 * 1024 * 1024)

    response = await client.post(
        "/api/timelogs/start/",
        content=body.chunks(),
        headers={"Content-Length": str(body.size), "Content-Type": "application/json"},
    )

    assert_too_large(response, "64 KiB")
    assert body.pulled == 0


@pytest.mark.parametrize("authenticated", [True, False], ids=["token", "stranger"])
async def test_an_undeclared_length_is_read_no_further_than_the_cap(
    client: AsyncClient, alice: ApiUser, authenticated: bool
) -> None:
    body = Streamed(20 * 1024 * 1024)
    headers = {"Content-Type": "application/json", **(alice.headers if authenticated else {})}

    response = await client.post("/api/timelogs/start/", content=body.chunks(), headers=headers)

    assert_too_large(response, "64 KiB")
    assert body.pulled <= DEFAULT_MAX_BYTES + CHUNK


async def test_the_page_caps_its_forms(client: AsyncClient) -> None:
    response = await client.post(
        "/logout",
        content=b"csrf_token=" + b"a" * DEFAULT_MAX_BYTES,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_too_large(response, "64 KiB")
