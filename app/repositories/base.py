from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import set_committed_value

Model = TypeVar("Model", bound=Hashable)


@cache
def _constructor(model: type[Any]) -> Callable[[], Any]:
    configure_mappers()  # as the first query would: the attributes need their mappers
    constructor: Callable[[], Any] = inspect(model).class_manager.new_instance
    return constructor


def loaded(model: type[Model], columns: Sequence[str], row: Sequence[Any]) -> Model:
    """A model instance holding a row read by a plain statement, as a query would load it.

    It belongs to no session: repositories write it back with statements of their own
    (`Repository.committed` keeps it in step), never through the ORM's flush.
    """
    instance: Model = _constructor(model)()
    instance.__dict__.update(zip(columns, row, strict=False))
    return instance


class Repository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    @staticmethod
    def committed(instance: object, **values: Any) -> None:
        """Show values a statement has written on the instance, as stored (nothing to flush)."""
        for name, value in values.items():
            set_committed_value(instance, name, value)
