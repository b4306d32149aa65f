"""What every `timetrack` command shares: one-line failures, and a unit of work of its own.

A user mistake prints one line on stderr and exits non-zero; tracebacks are for bugs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"timetrack: {message}", err=True)
    raise SystemExit(code)


def run_in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on a fresh engine (then its post-commit work)."""
    from app.db import database, transaction
    from server import outbound

    async def main() -> T:
        try:
            async with transaction() as db:
                return await work(db)
        finally:
            await database.dispose()
            await outbound.aclose()

    return asyncio.run(main())
