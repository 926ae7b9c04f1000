"""Column and index shapes every table uses: UTC times, and the partial index a queue's
claims scan.

Every datetime is timezone-aware UTC in Python. SQLite has no time zone type, so `UtcDateTime`
stores naive UTC there (fixed-width text that sorts correctly) and PostgreSQL uses timestamptz.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive time is ambiguous; refusing it catches bugs before they shift schedules.
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_field(*, nullable: bool = True, index: bool = False) -> Any:
    """A UTC datetime column (None until set)."""
    return Field(default=None, sa_column=sa.Column(UtcDateTime(), nullable=nullable, index=index))


def pending_index(name: str, *columns: str, unset: str) -> sa.Index:
    """The index a queue's claims scan: `columns` of the rows whose `unset` column is still
    NULL (not yet sent or done), read in order with a LIMIT.

    The WHERE goes to the backend that creates the index (`_partial_where`), instead of being
    named here for each backend: `postgresql_where=` would load SQLAlchemy's PostgreSQL
    dialect, all its drivers' modules (about 2 MB), into a process serving SQLite (issue 21).
    The migrations create these indexes with their own WHERE."""
    return sa.Index(name, *columns, info={PARTIAL_WHERE: f"{unset} IS NULL"})


PARTIAL_WHERE = "getkey_partial_where"


@sa.event.listens_for(sa.Table, "before_create")
def _partial_where(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    for index in table.indexes:
        where = index.info.get(PARTIAL_WHERE)
        if where is not None:
            index.dialect_options[connection.dialect.name]["where"] = sa.text(where)
