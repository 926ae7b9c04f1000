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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # parameter order for positional drivers (SQLite's "?")
    defaults: dict[str, Any]  # values the statement carries itself (literals become binds)
    columns: tuple[str, ...]
    convert: tuple[Callable[[Any], Any] | None, ...]


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
            found = _Compiled(
                sql=str(compiled),
                names=tuple(compiled.positiontup or ()) if compiled.positional else None,
                defaults=dict(compiled.params),
                columns=tuple(c.key for c in selected),
                convert=tuple(
                    c.type.dialect_impl(dialect).result_processor(dialect, None) for c in selected
                ),
            )
            self._by_dialect[dialect.name] = found
        return found

    def rows(self, engine: Engine, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row, as {column: value} with the values converted as SQLAlchemy would (NULL
        is None for every type used here)."""
        compiled = self._compiled(engine.dialect)
        values = {**compiled.defaults, **params}
        args: Any = [values[n] for n in compiled.names] if compiled.names is not None else values
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(compiled.sql, args)
                fetched = cursor.fetchall()
            finally:
                cursor.close()
        finally:
            raw.close()
        pairs = tuple(zip(compiled.columns, compiled.convert, strict=True))
        return [
            {name: (v if f is None or v is None else f(v))
             for (name, f), v in zip(pairs, row, strict=True)}
            for row in fetched
        ]  # fmt: skip
