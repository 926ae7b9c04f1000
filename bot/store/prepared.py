"""Statements compiled once per database dialect and run on the driver's own cursor.

For the reads a Slack answer waits on (/getkey list): there SQLAlchemy's per-call work (building
the statement, its cache key, a Session, the BEGIN hook of bot.store.db) cost several times the
query itself (measured: 2.4 ms against 0.1 ms for one person's page on SQLite). The SQL text,
the order of its parameters and the column types' result conversions are worked out once; a
call is a pooled connection, one execute and the conversions.

Only for single SELECT statements whose parameters need no conversion on the way in (text,
integers, None) and that expand none (write `col.in_([sa.literal(v), ...])`, not a plain
list). SQLite runs a lone statement in autocommit (one consistent snapshot); PostgreSQL's
implicit transaction is rolled back when the connection returns to the pool.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # The parameters' values in order, for positional drivers (SQLite's "?"), else None.
    ordered: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None
    defaults: dict[str, Any]  # values the statement carries itself (literals become binds)
    columns: tuple[str, ...]
    converted: tuple[tuple[str, Callable[[Any], Any]], ...]  # columns whose values convert


class Prepared:
    """One SELECT, compiled on first use for each dialect it meets."""

    def __init__(self, statement: sa.Select[Any] | sa.CompoundSelect[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            selected = self.statement.selected_columns
            names = tuple(compiled.positiontup or ()) if compiled.positional else None
            convert = ((c.key, c.type.dialect_impl(dialect).result_processor(dialect, None))
                       for c in selected)
            found = _Compiled(
                sql=str(compiled),
                # itemgetter of one name gives the value itself, of several a tuple.
                ordered=(None if names is None else itemgetter(*names) if len(names) > 1
                         else lambda values, name=names[0]: (values[name],)),  # type: ignore[misc]
                defaults=dict(compiled.params),
                columns=tuple(c.key for c in selected),
                converted=tuple((key, f) for key, f in convert if f is not None),
            )
            self._by_dialect[dialect.name] = found
        return found

    def rows(self, engine: Engine, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row, as {column: value} with the values converted as SQLAlchemy would (NULL
        is None for every type used here), on a connection of the engine's pool."""
        raw = engine.raw_connection()
        try:
            return self.rows_on(raw, engine.dialect, params)
        finally:
            raw.close()

    def rows_on(
        self, connection: Any, dialect: Dialect, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The same on a DB-API connection of `dialect`'s driver."""
        compiled = self._compiled(dialect)
        values = {**compiled.defaults, **params}
        args: Any = values if compiled.ordered is None else compiled.ordered(values)
        cursor = connection.cursor()
        try:
            cursor.execute(compiled.sql, args)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        columns, converted = compiled.columns, compiled.converted
        rows = [dict(zip(columns, row, strict=True)) for row in fetched]
        for row in rows:
            for name, convert in converted:  # most are NULL in a given part (bot.store.my_list)
                value = row[name]
                if value is not None:
                    row[name] = convert(value)
        return rows


class InstantReads:
    """Reads that can be answered on the spot, in the calling thread (the event loop's, for a
    Slack ack) instead of a worker's: for a SQLite file only, whose reads of one person's rows
    take a fraction of a millisecond, less than handing them to a worker thread and back.

    Each thread gets a read-only connection of its own that never waits for a lock: if the
    database is busy (in WAL mode readers almost never are), `connection()` raises Busy and
    the caller reads through the worker pool as before. Other databases: `available` is
    False (a network round trip must not hold the event loop)."""

    def __init__(self, engine: Engine) -> None:
        url = engine.url
        database = url.database or ""
        self.dialect = engine.dialect
        self.available = url.get_backend_name() == "sqlite" and not (
            database in ("", ":memory:") or database.startswith("file:")
        )
        self._path = database
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        found: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if found is None:
            # timeout=0: a locked database raises at once instead of waiting.
            found = sqlite3.connect(self._path, timeout=0, isolation_level=None)
            found.execute("PRAGMA query_only = ON")
            self._local.connection = found
        return found

    def close(self) -> None:
        found = getattr(self._local, "connection", None)
        if found is not None:
            found.close()
            self._local.connection = None


Busy = sqlite3.OperationalError  # "database is locked": read through the worker pool instead
