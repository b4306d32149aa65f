"""The statements sent straight to psycopg: their columns, their errors, and preparing them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts
from app import session as sessions
from app.config import ConfigError, get_settings, load_settings
from app.db import behind_transaction_pooler, create_engine, execute
from app.models import Session, SessionSource, User
from app.repositories import credentials, users
from app.repositories import sessions as session_statements
from tests.domain.conftest import fresh_user_id


def _names(cursor: Any) -> list[str]:
    return [column.name for column in cursor.description]


def test_the_column_lists_are_the_models() -> None:
    assert set(users.USER_COLUMNS) == set(User.__table__.columns.keys())
    assert set(session_statements.SESSION_COLUMNS) == set(Session.__table__.columns.keys())


async def test_each_statement_returns_the_columns_its_rows_are_read_by(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    started = await sessions.clock_in(db, user_id, "Maths", source=SessionSource.API)
    lock = {"user_id": user_id, "username": None, "timezone": "UTC"}
    expected_user = list(users.USER_COLUMNS)
    assert _names(await execute(db, users.LOCK_AND_READ_USER, lock)) == expected_user
    assert _names(await execute(db, users.USER_BY_ID, (user_id,))) == expected_user
    owner = await execute(db, credentials.OWNER_MARKED_USED, (started.started_at, "no such"))
    assert _names(owner) == expected_user
    sign_in = {"at": started.started_at, "until": started.started_at, "token_hash": "no such"}
    assert _names(await execute(db, credentials.OWNER_OF_SIGN_IN, sign_in)) == expected_user
    assert _names(await execute(db, users.LOCK_USERS, ([user_id],))) == expected_user
    unless_throttled = {**sign_in, "address": "192.0.2.1", "since": started.started_at, "skip": 19}
    for sql in (credentials.TOKEN_UNLESS_THROTTLED, credentials.SIGN_IN_UNLESS_THROTTLED):
        assert _names(await execute(db, sql, unless_throttled)) == [*expected_user, "failed_at"]
    expected_session = [*session_statements.SESSION_COLUMNS, "name"]
    for sql, key in (
        (session_statements.SESSION_BY_ID, started.id),
        (session_statements.ACTIVE_SESSION, user_id),
    ):
        assert _names(await execute(db, sql, (key,))) == expected_session


async def test_a_failing_statement_raises_sqlalchemys_error(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    with pytest.raises(IntegrityError):
        async with db.begin_nested():
            await execute(db, "INSERT INTO users (id, timezone) VALUES (%s, 'UTC')", (user_id,))
    assert (await accounts.get_user(db, user_id)).id == user_id  # the transaction goes on


async def test_frequent_statements_are_prepared_on_a_direct_connection(db: AsyncSession) -> None:
    user_id = fresh_user_id()
    await accounts.ensure_user(db, user_id)
    for _ in range(6):
        await accounts.get_user(db, user_id)
    prepared = await db.execute(
        text("SELECT count(*) FROM pg_prepared_statements WHERE statement = :sql"),
        {"sql": users.USER_BY_ID.replace("%s", "$1")},
    )
    assert prepared.scalar_one() == 1


async def test_nothing_is_prepared_behind_a_transaction_pooler(
    settings_env: pytest.MonkeyPatch, database_url: str
) -> None:
    settings_env.setenv("DATABASE_POOLER", "transaction")
    get_settings.cache_clear()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            for _ in range(6):
                await conn.exec_driver_sql(users.USER_BY_ID, ("nobody",))
            prepared = await conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements")
            assert prepared.scalar_one() == 0
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "setting", "pooled"),
    [
        ("postgresql://u@ep-cool-123-pooler.us-east-1.aws.neon.tech/db", None, True),
        ("postgresql://u@aws-0-eu.pooler.supabase.com:6543/db", None, True),
        ("postgresql://u@db.internal:6432/db", None, True),
        ("postgresql://u@ep-cool-123.us-east-1.aws.neon.tech/db", None, False),
        ("postgresql://u@localhost:5432/db", None, False),
        ("postgresql://u@localhost:5432/db", "transaction", True),
        ("postgresql://u@ep-cool-123-pooler.neon.tech/db", "session", False),
        ("postgresql://u@ep-cool-123-pooler.neon.tech/db", "none", False),
    ],
)
def test_a_transaction_pooler_is_told_or_detected(
    url: str, setting: str | None, pooled: bool
) -> None:
    assert behind_transaction_pooler(url, setting) is pooled


def test_an_unknown_pooler_mode_is_a_one_line_error(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("DATABASE_POOLER", "statement")
    with pytest.raises(ConfigError, match=r"^DATABASE_POOLER: must be one of"):
        load_settings()
