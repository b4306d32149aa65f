"""`GET|PATCH /api/me`: the reminder and weekly-summary settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import Clock
from app.models import Session, User
from tests.api.conftest import ApiUser, error_of, start


async def me(client: AsyncClient, user: ApiUser) -> dict[str, Any]:
    response = await client.get("/api/me", headers=user.headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def patch(client: AsyncClient, user: ApiUser, body: Any) -> Any:
    return await client.patch("/api/me", json=body, headers=user.headers)


async def test_newcomers_get_reminders_after_two_hours_and_summaries(
    client: AsyncClient, alice: ApiUser
) -> None:
    body = await me(client, alice)
    assert (body["remind_after_minutes"], body["weekly_summary"]) == (120, True)


async def test_the_settings_change_one_at_a_time(client: AsyncClient, alice: ApiUser) -> None:
    changed = await patch(client, alice, {"remind_after_minutes": 45})
    assert changed.status_code == 200
    assert (changed.json()["remind_after_minutes"], changed.json()["weekly_summary"]) == (45, True)

    changed = await patch(client, alice, {"weekly_summary": False})
    assert (changed.json()["remind_after_minutes"], changed.json()["weekly_summary"]) == (45, False)

    # Null turns reminders off; a null summary setting, like a missing one, changes nothing.
    changed = await patch(client, alice, {"remind_after_minutes": None, "weekly_summary": None})
    assert (changed.json()["remind_after_minutes"], changed.json()["weekly_summary"]) == (
        None,
        False,
    )
    assert await me(client, alice) == changed.json()

    both = await patch(
        client,
        alice,
        {"timezone": "Europe/Berlin", "remind_after_minutes": 1440, "weekly_summary": True},
    )
    assert both.status_code == 200
    assert (
        both.json()["timezone"],
        both.json()["remind_after_minutes"],
        both.json()["weekly_summary"],
    ) == ("Europe/Berlin", 1440, True)


@pytest.mark.parametrize(
    "body",
    [
        {"remind_after_minutes": 0},
        {"remind_after_minutes": -5},
        {"remind_after_minutes": 1441},
        {"remind_after_minutes": "120"},
        {"remind_after_minutes": 90.5},
        {"remind_after_minutes": True},
        {"weekly_summary": "yes"},
        {"weekly_summary": 1},
        {"weekly_summary": "false"},
        {"remind_after_minutes": 30, "weekly_summary": "no"},
    ],
    ids=repr,
)
async def test_a_bad_setting_is_422_and_changes_nothing(
    client: AsyncClient, alice: ApiUser, body: dict[str, Any]
) -> None:
    response = await patch(client, alice, body)

    assert response.status_code == 422
    code, detail = error_of(response)
    assert code == "invalid_input"
    assert next(iter(body)) in detail or "weekly_summary" in detail
    after = await me(client, alice)
    assert (after["remind_after_minutes"], after["weekly_summary"]) == (120, True)


async def test_a_new_setting_reschedules_the_running_session(
    client: AsyncClient, alice: ApiUser, db: AsyncSession, frozen: Clock
) -> None:
    started = await start(client, alice)
    frozen.advance(minutes=10)

    await patch(client, alice, {"remind_after_minutes": 30})
    session = await db.get(Session, started["id"])
    assert session is not None
    await db.refresh(session)
    assert session.remind_at == frozen.now() + timedelta(minutes=20)

    await patch(client, alice, {"remind_after_minutes": None})
    await db.refresh(session)
    assert session.remind_at is None


async def test_turning_summaries_back_on_has_the_next_tick_work_out_when(
    client: AsyncClient, alice: ApiUser, db: AsyncSession, frozen: Clock
) -> None:
    user = await db.get(User, alice.id)
    assert user is not None
    await patch(client, alice, {"weekly_summary": False})
    user.next_summary_at = frozen.now() + timedelta(days=3)
    await db.flush()

    await patch(client, alice, {"weekly_summary": True})
    await db.refresh(user)
    assert user.next_summary_at is None
