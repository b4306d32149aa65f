"""Users and sessions read by plain statements belong to no ORM session: assigning to them
and flushing would write nothing. Each change below is read back from the table itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, reminders, summaries, throttle
from app import session as sessions
from app.clock import Clock
from app.models import SessionSource
from app.repositories.events import Answer, ProcessedEventRepository
from app.repositories.users import UserRepository
from tests.domain.conftest import fresh_user_id

LATER = datetime(2030, 1, 7, 8, tzinfo=UTC)


async def _row(db: AsyncSession, sql: str, **values: Any) -> dict[str, Any]:
    return dict((await db.execute(text(sql), values)).mappings().one())


async def _user_row(db: AsyncSession, user_id: str) -> dict[str, Any]:
    return await _row(db, "SELECT * FROM users WHERE id = :id", id=user_id)


async def _planned(db: AsyncSession, user_id: str) -> None:
    await accounts.ensure_user(db, user_id)
    await db.execute(
        text("UPDATE users SET next_summary_at = :at WHERE id = :id"), {"at": LATER, "id": user_id}
    )


async def test_a_new_timezone_is_stored_and_moves_the_next_summary(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    await accounts.set_timezone(db, user_id, "Asia/Tokyo")
    await _planned(db, user_id)
    await accounts.set_timezone(db, user_id, "Asia/Tokyo")  # the same zone: nothing moves
    assert (await _user_row(db, user_id))["next_summary_at"] == LATER

    user = await accounts.set_timezone(db, user_id, "Europe/Paris")
    row = await _user_row(db, user_id)
    assert (row["timezone"], row["next_summary_at"]) == ("Europe/Paris", None)
    assert (user.timezone, user.next_summary_at) == ("Europe/Paris", None)


async def test_weekly_summaries_off_and_on_are_stored(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    await _planned(db, user_id)
    await summaries.set_weekly_summary(db, user_id, False)
    row = await _user_row(db, user_id)
    assert (row["weekly_summary"], row["next_summary_at"]) == (False, LATER)

    user = await summaries.set_weekly_summary(db, user_id, True)
    row = await _user_row(db, user_id)
    # Back on: due again, worked out by the next tick.
    assert (row["weekly_summary"], row["next_summary_at"]) == (True, None)
    assert (user.weekly_summary, user.next_summary_at) == (True, None)


async def test_a_reminder_setting_is_stored_with_the_active_sessions_next_reminder(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    started = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
    stored = "SELECT remind_at FROM sessions WHERE id = :id"
    assert (await _row(db, stored, id=started.id))["remind_at"] == frozen.now() + timedelta(
        minutes=120
    )

    user = await reminders.set_remind_after(db, user_id, 30)
    assert user.remind_after_minutes == 30
    assert (await _user_row(db, user_id))["remind_after_minutes"] == 30
    assert (await _row(db, stored, id=started.id))["remind_at"] == frozen.now() + timedelta(
        minutes=30
    )

    await reminders.set_remind_after(db, user_id, None)
    assert (await _user_row(db, user_id))["remind_after_minutes"] is None
    assert (await _row(db, stored, id=started.id))["remind_at"] is None


async def test_keep_going_and_clock_out_store_the_next_reminder(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    started = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
    stored = "SELECT remind_at FROM sessions WHERE id = :id"
    frozen.advance(minutes=200)
    await sessions.keep_going(db, user_id, started.id)
    assert (await _row(db, stored, id=started.id))["remind_at"] == frozen.now() + timedelta(
        minutes=120
    )
    await sessions.clock_out(db, user_id, started.id)
    assert (await _row(db, stored, id=started.id))["remind_at"] is None


async def test_taking_due_reminders_and_summaries_stores_what_was_taken(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    started = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
    frozen.advance(minutes=121)
    due = await reminders.take_due(db, frozen.now(), 1000)
    assert started.id in [reminder.session.id for reminder in due]
    stored = await _row(db, "SELECT remind_at FROM sessions WHERE id = :id", id=started.id)
    assert stored["remind_at"] is None

    assert (await _user_row(db, user_id))["next_summary_at"] is None  # a new user
    await summaries.take_due(db, frozen.now(), 1000)
    assert (await _user_row(db, user_id))["next_summary_at"] is not None


async def test_users_locked_together_come_with_every_column(db: AsyncSession) -> None:
    first, second = fresh_user_id(), fresh_user_id()
    await _planned(db, first)
    await reminders.set_remind_after(db, second, 45)
    locked = await UserRepository(db).lock_many(accounts.in_lock_order([second, first]))
    assert [user.id for user in locked] == sorted([first, second])
    assert [user.next_summary_at for user in locked] == [LATER, None]
    assert [user.remind_after_minutes for user in locked] == [120, 45]
    assert all(user.weekly_summary for user in locked)


async def test_a_used_sign_in_lasts_longer_and_names_a_whole_user(
    db: AsyncSession, frozen: Clock
) -> None:
    user_id = fresh_user_id()
    await reminders.set_remind_after(db, user_id, 15)
    plain = await accounts.create_sign_in(db, user_id)
    frozen.advance(days=1)
    user = await accounts.user_for_sign_in(db, plain)
    assert user is not None
    assert (user.id, user.remind_after_minutes, user.weekly_summary) == (user_id, 15, True)
    row = await _row(
        db, "SELECT last_seen_at, expires_at FROM sign_ins WHERE user_id = :id", id=user_id
    )
    assert row["last_seen_at"] == frozen.now()
    assert row["expires_at"] == frozen.now() + accounts.SIGN_IN_LIFETIME

    frozen.advance(accounts.SIGN_IN_LIFETIME.total_seconds() + 1)
    assert await accounts.user_for_sign_in(db, plain) is None


async def test_a_recorded_event_keeps_its_sender(db: AsyncSession, frozen: Clock) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    repository = ProcessedEventRepository(db)
    event_id = f"event-{user_id}"
    answer = Answer({"type": 4, "data": {"content": "hi"}})
    assert await repository.record("discord", event_id, answer, frozen.now(), user_id)
    assert not await repository.record("discord", event_id, answer, frozen.now(), user_id)
    row = await _row(
        db, "SELECT user_id, response FROM processed_events WHERE event_id = :id", id=event_id
    )
    assert row == {"user_id": user_id, "response": answer.response}


async def test_a_throttled_address_looks_up_no_token_or_sign_in(
    db: AsyncSession, frozen: Clock
) -> None:
    """The throttle and the credential are one statement; a throttled address's statement
    marks no token used and slides no sign-in, and says how long to wait."""
    user_id = fresh_user_id()
    address = f"203.0.113.{int(user_id.rsplit('-', 1)[1]) % 250}"
    token, plain_token = await accounts.create_api_token(db, user_id)
    plain_sign_in = await accounts.create_sign_in(db, user_id)
    frozen.advance(10)

    user, wait = await accounts.user_for_token_unless_throttled(db, plain_token, address)
    assert (user.id if user else None, wait) == (user_id, None)
    assert user is not None and user.remind_after_minutes == 120
    user, wait = await accounts.user_for_sign_in_unless_throttled(db, plain_sign_in, address)
    assert (user.id if user else None, wait) == (user_id, None)
    used = "SELECT last_used_at FROM api_tokens WHERE id = :id"
    seen = "SELECT last_seen_at FROM sign_ins WHERE user_id = :id"
    assert (await _row(db, used, id=token.id))["last_used_at"] == frozen.now()

    for _ in range(throttle.LIMIT):
        await throttle.record_failure(db, address)
    frozen.advance(10)
    assert await accounts.user_for_token_unless_throttled(db, plain_token, address) == (None, 50)
    assert await accounts.user_for_sign_in_unless_throttled(db, plain_sign_in, address) == (
        None,
        50,
    )
    assert (await _row(db, used, id=token.id))["last_used_at"] == frozen.now() - timedelta(
        seconds=10
    )
    assert (await _row(db, seen, id=user_id))["last_seen_at"] == frozen.now() - timedelta(
        seconds=10
    )
    # Another address is not held back.
    user, wait = await accounts.user_for_token_unless_throttled(db, plain_token, "198.51.100.9")
    assert (user.id if user else None, wait) == (user_id, None)
