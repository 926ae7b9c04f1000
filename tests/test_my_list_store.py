"""/getkey list's one read (bot.store.my_list) on every backend: the same page of keys as the
general listing query (order, total, status, next reminder), past the end too, and the person's
newest open requests then recently closed ones, never anyone else's."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.store import Store
from bot.store.listing import Listing
from bot.store.models import Credential
from bot.store.requests import RequestInfo
from bot.store.seed import seed
from tests.storage_fixtures import TWO, Clock

pytest_plugins = ["tests.storage_fixtures"]

TEAM = "T0LIST"


def ask(store: Store, clock: Clock, user: str = "U0ME", team: str = TEAM) -> RequestInfo:
    clock.advance(minutes=1)  # newest first needs distinct times
    return store.open_request(
        team_id=team, user_id=user, provider_id="U0PROV", platform=TWO.id, note="why",
        channel_id="C0CHAN", nudge_after=timedelta(days=2), expire_after=timedelta(days=7),
        max_open=100,
    )  # fmt: skip


def test_pages_are_the_listing_querys_pages(store: Store, clock: Clock) -> None:
    now = clock()
    seed(store.engine, store._keyring, count=23, due=5, now=now, team_id=TEAM,
         users=["U0ME", "U0YOU"], platforms=("wix", "shopify", "ecwid"))  # fmt: skip
    seed(store.engine, store._keyring, count=4, due=0, now=now, team_id="T0OTHER",
         users=["U0ME"], platforms=("wix",))  # fmt: skip
    with store.engine.begin() as conn:  # one expired, one failing: statuses come through
        conn.execute(sa.update(Credential).where(Credential.identity == "store-2")
                     .values(expires_at=now - timedelta(days=1)))  # fmt: skip
        conn.execute(sa.update(Credential).where(Credential.identity == "store-4")
                     .values(status="failing"))  # fmt: skip
    seen = []
    for offset in (0, 5, 10):
        page, asked = store.my_list(TEAM, "U0ME", offset=offset, limit=5)
        expected = Listing.page_for_user(store, TEAM, "U0ME", offset=offset, limit=5)
        assert page == expected and asked == []
        seen += page.infos
    assert len(seen) == 12 and page.total == 12 and not page.has_more
    assert {i.user_id for i in seen} == {"U0ME"} and {i.team_id for i in seen} == {TEAM}
    assert {i.status for i in seen} >= {"expired", "failing", "verified"}
    assert any(i.next_reminder_at for i in seen)
    past, _ = store.my_list(TEAM, "U0ME", offset=40, limit=5)
    assert past.infos == [] and past.total == 12
    assert store.page_for_user(TEAM, "U0ME", offset=5, limit=5).infos == seen[5:10]


def test_requests_come_newest_first_open_then_closed(store: Store, clock: Clock) -> None:
    mine = [ask(store, clock) for _ in range(9)]
    ask(store, clock, user="U0YOU")
    ask(store, clock, team="T0OTHER")
    store.request_moved(mine[8].id, "cancelled")
    store.request_moved(mine[7].id, "fulfilled")
    store.request_moved(mine[6].id, "withdrawn", only_open=False)
    store.request_moved(mine[1].id, "cancelled")
    store.request_moved(mine[0].id, "failed", detail="The key was refused.")
    everything = store.requests_of(TEAM, "U0ME")  # newest first

    page, asked = store.my_list(TEAM, "U0ME", open_requests=3, closed_requests=2)
    assert page.total == 0
    open_ones = [r for r in everything if r.is_open][:3]
    closed = [r for r in everything if not r.is_open and r.state != "fulfilled"][:2]
    assert asked == open_ones + closed
    assert [r.id for r in asked] == [mine[5].id, mine[4].id, mine[3].id, mine[8].id, mine[6].id]

    _, every_open = store.my_list(TEAM, "U0ME", open_requests=10, closed_requests=10)
    assert {r.id for r in every_open} == {r.id for r in everything} - {mine[7].id}
    _, none = store.my_list(TEAM, "U0ME", offset=0)
    assert none == []
