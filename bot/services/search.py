"""What a person types to find a key (`/getkey list shopify expiring`, the Home tab's search):
each word becomes a bot.store.listing.Term that matches a platform's name or alias, the
store's name or address, a shown status, or an owner's user id; a key must match every word."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.store.listing import STATUSES, Page, Term
from flows import catalog

if TYPE_CHECKING:
    from bot.services.credentials import Actor
    from bot.store import Store
    from bot.store.requests import RequestInfo

MAX_WORDS = 6
MAX_QUERY = 100
# Other words people use for a status.
_STATUS_WORDS = {
    "ok": "verified", "working": "verified", "valid": "verified",
    "failed": "failing", "broken": "failing", "invalid": "failing",
    "soon": "expiring", "expires": "expiring",
}  # fmt: skip


def clean_query(text: str) -> str:
    """The words as they will be searched and shown back: no mention or link syntax, bounded."""
    if not text:
        return ""
    text = re.sub(r"<@([A-Z0-9]+)(\|[^>]*)?>", r"\1", text)
    text = re.sub(r"[<>*`~]", " ", text)
    return " ".join(text.split()[:MAX_WORDS])[:MAX_QUERY]


def terms_of(text: str) -> tuple[Term, ...]:
    return tuple(_term(w) for w in clean_query(text).split())


def _term(word: str) -> Term:
    wanted = catalog.normalize(word)
    platforms = tuple(
        f.id
        for f in catalog.all_flows()
        if wanted
        and any(wanted in catalog.normalize(n) for n in (f.id, f.name, *f.aliases))
    )
    lower = word.lower()
    statuses = tuple(s for s in STATUSES if s.startswith(lower) and len(lower) >= 3)
    if lower in _STATUS_WORDS:
        statuses += (_STATUS_WORDS[lower],)
    return Term(text=word, platforms=platforms, statuses=statuses)


def my_page(store: Store, actor: Actor, query: str = "", offset: int = 0, limit: int = 20) -> Page:
    """A page of the actor's own keys matching every word of `query`."""
    return store.page_for_user(
        actor.team_id, actor.user_id, actor.enterprise_id,
        terms=terms_of(query), offset=offset, limit=limit,
    )  # fmt: skip


def my_list(
    store: Store, actor: Actor, offset: int, limit: int, open_requests: int, closed_requests: int,
    *, instant: bool = False,
) -> tuple[Page, list[RequestInfo]]:
    """A page of the actor's own keys and their newest requests to others, in one read
    (`instant`: bot.store.my_list.MyList.my_list)."""
    return store.my_list(
        actor.team_id, actor.user_id, actor.enterprise_id, offset=offset, limit=limit,
        open_requests=open_requests, closed_requests=closed_requests, instant=instant,
    )  # fmt: skip
