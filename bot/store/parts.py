"""People split between sweeping processes: `getkey remind --once` with several workers gives
each worker the reminders of one part of the people, so all of a person's DMs go out from one
process and its pacing (one message a second per conversation, bot.slack.messenger) holds.

A part is (index, count): the reminders whose owner's Slack user id hashes to `index` modulo
`count`. The hash is computed by the database in the claim query: PostgreSQL's hashtext, and
on SQLite a function registered on every connection (bot.store.db). Only sweepers of the
same sweep must agree on it, so the two backends need not hash alike.
"""

from __future__ import annotations

import zlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# (index, count): this sweeper's part of the people.
Part = tuple[int, int]

# The SQLite function's name (registered per connection by bot.store.db).
SQLITE_FUNCTION = "getkey_person_part"


def person_part_py(user_id: str | None, count: int) -> int:
    """SQLite's implementation: CRC-32 of the user id, modulo `count`."""
    return zlib.crc32((user_id or "").encode()) % max(1, int(count))


class person_part(FunctionElement[int]):  # used like sa.func.<name>
    """SQL: which of `count` parts a Slack user id (a column) belongs to, 0 … count-1."""

    type = sa.Integer()
    inherit_cache = True
    name = "person_part"


@compiles(person_part, "sqlite")
def _sqlite(element: person_part, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(person_part, "postgresql")
def _postgresql(element: person_part, compiler: SQLCompiler, **kw: Any) -> str:
    user_id, count = list(element.clauses)
    # hashtext is signed: masked to non-negative before the modulo.
    hashed = sa.func.hashtext(user_id, type_=sa.Integer()).op("&")(0x7FFFFFFF)
    return compiler.process((hashed % count).self_group(), **kw)


def in_part(user_id: Any, part: Part) -> sa.ColumnElement[bool]:
    """The owner (a user id column) is in `part`."""
    index, count = part
    return person_part(user_id, sa.literal(count, sa.Integer())) == index
