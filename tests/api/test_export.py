"""CSV export: a header row, one row per session, times in the caller's timezone."""

from __future__ import annotations

import csv
import io

import pytest
from httpx import AsyncClient

from app.clock import Clock
from app.history import CSV_COLUMNS
from tests.api.conftest import ApiUser, error_of, start


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def one_session(client: AsyncClient, user: ApiUser, frozen: Clock, **extra: str) -> int:
    session = await start(client, user, **extra)
    frozen.advance(4800)
    await client.post(f"/api/timelogs/{session['id']}/stop/", headers=user.headers)
    session_id: int = session["id"]
    return session_id


async def test_export_has_a_header_and_one_row_per_session_in_local_time(
    client: AsyncClient, alice: ApiUser, bob: ApiUser, frozen: Clock
) -> None:
    session_id = await one_session(client, alice, frozen, goal="scraper")
    await start(client, bob, "not yours")

    response = await client.get("/api/timelogs/export.csv", headers=alice.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="timetrack-sessions.csv"'
    )
    assert response.text.splitlines()[0] == ",".join(CSV_COLUMNS)
    [row] = rows(response.text)
    assert row["id"] == str(session_id)
    assert row["subject"] == "search_engine"
    assert row["goal"] == "scraper"
    assert row["status"] == "ENDED_UNCONFIRMED"
    # Frozen at 01:00 UTC on a Wednesday: noon in Sydney (UTC+11 in November).
    assert row["started_at"] == "2026-11-18T12:00:00+11:00"
    assert row["ended_at"] == "2026-11-18T13:20:00+11:00"
    assert row["timezone"] == "Australia/Sydney"
    assert row["effective_seconds"] == "4800"
    assert row["effective_hours"] == "1.33"
    assert row["effective"] == "1h 20m"


async def test_export_follows_the_callers_timezone(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    await one_session(client, alice, frozen)
    await client.patch("/api/me", json={"timezone": "Europe/Berlin"}, headers=alice.headers)

    [row] = rows((await client.get("/api/timelogs/export.csv", headers=alice.headers)).text)

    assert row["started_at"] == "2026-11-18T02:00:00+01:00"
    assert row["timezone"] == "Europe/Berlin"


async def test_export_days_are_the_callers_days(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    # 14:00 UTC on the 17th is already 01:00 on the 18th in Sydney.
    frozen.advance(-11 * 3600)
    session_id = await one_session(client, alice, frozen)

    async def exported(query: str) -> list[str]:
        response = await client.get(f"/api/timelogs/export.csv?{query}", headers=alice.headers)
        assert response.status_code == 200, response.text
        return [row["id"] for row in rows(response.text)]

    assert await exported("from=2026-11-18&to=2026-11-18") == [str(session_id)]
    assert await exported("from=2026-11-18") == [str(session_id)]
    assert await exported("to=2026-11-17") == []
    assert await exported("from=2026-11-19") == []
    assert await exported("from=&to=") == [str(session_id)]


async def test_export_names_the_file_after_the_range(client: AsyncClient, alice: ApiUser) -> None:
    response = await client.get(
        "/api/timelogs/export.csv?from=2026-11-01&to=2026-11-30", headers=alice.headers
    )

    assert (
        'filename="timetrack-sessions-2026-11-01-to-2026-11-30.csv"'
        in (response.headers["content-disposition"])
    )
    assert response.text == ",".join(CSV_COLUMNS) + "\r\n"


async def test_export_defuses_spreadsheet_formulas(
    client: AsyncClient, alice: ApiUser, frozen: Clock
) -> None:
    await one_session(client, alice, frozen, goal='=HYPERLINK("http://evil")')

    [row] = rows((await client.get("/api/timelogs/export.csv", headers=alice.headers)).text)

    assert row["goal"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=yesterday",
        "to=20261118",
        "from=0001-01-01",
        "to=9999-12-31",
        "from=2026-11-18&to=2026-11-17",
    ],
)
async def test_export_refuses_bad_days_with_422(
    client: AsyncClient, alice: ApiUser, query: str
) -> None:
    response = await client.get(f"/api/timelogs/export.csv?{query}", headers=alice.headers)

    assert response.status_code == 422
    error_of(response)
