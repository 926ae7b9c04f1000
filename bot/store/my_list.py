"""A person's own keys without search words (/getkey list, its Previous/Next, the Home tab) in
one prepared statement (bot.store.prepared): the page of keys with each key's next reminder
and the total, as bot.store.listing reads them, and in the same UNION ALL their newest requests
to others (open ones, then recently closed), so the list costs one read.

Rows of the three parts share one column layout: each part fills its own columns and leaves
the others NULL (typed, so PostgreSQL can unite them). The statement's own ORDER BY (`part`,
then each part's order) returns them in order, and the total is one count: window functions
(a row number per part, a count over the page's rows) cost a quarter of the read on SQLite.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.store.base import from_db
from bot.store.info import CredentialInfo
from bot.store.listing import Listing, Page, Term, _next_reminder
from bot.store.models import Credential
from bot.store.prepared import InstantReads, Prepared
from bot.store.requests import OPEN_STATES, REQUEST_FIELDS, RequestInfo, request_info
from bot.store.sharing_models import CredentialRequest

_KEYS = Credential.__table__.c  # type: ignore[attr-defined]
_ASKED = CredentialRequest.__table__.c  # type: ignore[attr-defined]
KEY_FIELDS = tuple(f for f in CredentialInfo.model_fields if f != "next_reminder_at")
PAGE, OPEN, CLOSED = 0, 1, 2


def _among(states: tuple[str, ...]) -> list[Any]:
    return [sa.literal(s) for s in states]  # bound one by one: nothing to expand per call


def _columns(part: int, keys: bool) -> list[Any]:
    """The shared layout; `keys`: this part fills the key columns, else the request ones."""

    def filled(column: Any, name: str, mine: bool) -> Any:
        return (column if mine else sa.cast(sa.null(), column.type)).label(name)

    return [
        sa.literal(part, sa.Integer).label("part"),
        *(filled(_KEYS[f], f"k_{f}", keys) for f in KEY_FIELDS),
        filled(_next_reminder(), "upcoming", keys),
        filled(_key_count(), "total", keys),
        *(filled(_ASKED[f], f"r_{f}", not keys) for f in REQUEST_FIELDS),
    ]


def _mine() -> tuple[Any, ...]:
    return (
        _KEYS.team_id == sa.bindparam("team_id"),
        _KEYS.user_id == sa.bindparam("user_id"),
        _same_org(_KEYS.enterprise_id, sa.bindparam("enterprise_id")),
    )


def _key_count() -> Any:
    """How many keys the person has (uncorrelated: worked out once per read)."""
    return (sa.select(sa.func.count()).select_from(Credential).where(*_mine())
            .scalar_subquery())


def _same_org(column: Any, org: Any) -> Any:
    """IS NOT DISTINCT FROM spelled so that SQLite cannot serve it from ix_credential_team
    (team_id, enterprise_id), which it would otherwise pick over the owner's index and then
    read every key of the workspace to find one person's."""
    return sa.or_(column == org, sa.and_(column.is_(None), org.is_(None)))


def _statement() -> sa.CompoundSelect[Any]:
    keys = (
        sa.select(*_columns(PAGE, keys=True))
        .where(*_mine())
        .order_by(_KEYS.platform, _KEYS.identity)
        .offset(sa.bindparam("offset"))
        .limit(sa.bindparam("limit"))
    )
    newest = _ASKED.created_at.desc()
    mine = (_ASKED.team_id == sa.bindparam("team_id"), _ASKED.user_id == sa.bindparam("user_id"))
    opened = (
        sa.select(*_columns(OPEN, keys=False))
        .where(*mine, _ASKED.state.in_(_among(OPEN_STATES)))
        .order_by(newest)
        .limit(sa.bindparam("open_limit"))
    )
    closed = (
        sa.select(*_columns(CLOSED, keys=False))
        .where(*mine, _ASKED.state.not_in(_among((*OPEN_STATES, "fulfilled"))))
        .order_by(newest)
        .limit(sa.bindparam("closed_limit"))
    )
    parts = [part.subquery() for part in (keys, opened, closed)]
    # Each part's rows in the order its LIMIT picked them by (a part fills only its columns).
    return sa.union_all(*(sa.select(*p.c) for p in parts)).order_by(
        sa.literal_column("part"), sa.literal_column("k_platform"),
        sa.literal_column("k_identity"), sa.literal_column("r_created_at").desc())


_MY_LIST = Prepared(_statement())


class MyList(Listing):
    _instant: InstantReads | None = None

    @property
    def instant_reads(self) -> bool:
        """Whether my_list(instant=True) can answer here (a SQLite file)."""
        if self._instant is None:
            self._instant = InstantReads(self._engine)
        return self._instant.available

    def my_list(
        self,
        team_id: str,
        user_id: str,
        enterprise_id: str | None = None,
        *,
        offset: int = 0,
        limit: int = 20,
        open_requests: int = 0,
        closed_requests: int = 0,
        instant: bool = False,
    ) -> tuple[Page, list[RequestInfo]]:
        """A page of the person's keys in /getkey list order, and up to `open_requests` of their
        open requests then `closed_requests` closed ones (not fulfilled), newest first.
        `instant` (only where instant_reads): read in this thread without waiting for any lock,
        raising prepared.Busy if the database is busy."""
        now, offset = self._now(), max(0, offset)
        params = {
            "team_id": team_id, "user_id": user_id, "enterprise_id": enterprise_id,
            "offset": offset, "limit": max(1, limit),
            "open_limit": max(0, open_requests), "closed_limit": max(0, closed_requests),
        }  # fmt: skip
        if instant and self.instant_reads and self._instant is not None:
            rows = _MY_LIST.rows_on(self._instant.connection(), self._instant.dialect, params)
        else:
            rows = _MY_LIST.rows(self._engine, params)
        keys = [r for r in rows if r["part"] == PAGE]
        asked = [request_info({f: r[f"r_{f}"] for f in REQUEST_FIELDS})
                 for r in rows if r["part"] != PAGE]  # fmt: skip
        if not keys and offset:
            # Past the end (keys deleted since the page was drawn): the total says where the
            # last page starts.
            return super().page_for_user(team_id, user_id, enterprise_id, offset=offset,
                                         limit=limit), asked  # fmt: skip
        infos = [
            CredentialInfo.of_values({f: r[f"k_{f}"] for f in KEY_FIELDS}, now,
                                     from_db(r["upcoming"]))
            for r in keys
        ]  # fmt: skip
        return Page(infos, offset=offset, total=keys[0]["total"] if keys else 0), asked

    def page_for_user(
        self,
        team_id: str,
        user_id: str,
        enterprise_id: str | None = None,
        *,
        terms: tuple[Term, ...] = (),
        offset: int = 0,
        limit: int = 20,
    ) -> Page:
        if terms:
            return super().page_for_user(
                team_id, user_id, enterprise_id, terms=terms, offset=offset, limit=limit
            )
        return self.my_list(team_id, user_id, enterprise_id, offset=offset, limit=limit)[0]
