"""Pages of keys in the store (bot.store.listing) on every backend: one person's and a
workspace's, in order, counted, filtered by platform, store and shown status."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.services.search import terms_of
from bot.store.models import Credential
from bot.store.seed import seed

pytest_plugins = ["tests.storage_fixtures"]

PLATFORMS = ("wix", "shopify", "ecwid")


def test_pages_cover_every_key_once_and_search_narrows(store, clock) -> None:
    now = clock()
    seed(store.engine, store._keyring, count=60, due=0, now=now, team_id="TL",
         users=["U0ME", "U0YOU"], platforms=PLATFORMS)  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(sa.update(Credential).where(Credential.identity == "store-4")
                     .values(expires_at=now - timedelta(days=1)))  # fmt: skip
    seen, offset = [], 0
    while True:
        page = store.page_for_user("TL", "U0ME", offset=offset, limit=7)
        assert page.total == 30
        seen += page.infos
        if not page.has_more:
            break
        offset += len(page.infos)
    assert len({i.id for i in seen}) == 30 and {i.user_id for i in seen} == {"U0ME"}
    platforms = [i.platform for i in seen]
    assert platforms == sorted(platforms)  # in list order: by platform, then store

    shopify = store.page_for_user("TL", "U0ME", terms=terms_of("shopify"), limit=100)
    assert shopify.total == 10 and {i.platform for i in shopify.infos} == {"shopify"}
    gone = store.page_for_user("TL", "U0ME", terms=terms_of("expired"), limit=100)
    assert [(i.identity, i.status) for i in gone.infos] == [("store-4", "expired")]
    one = store.page_for_user("TL", "U0ME", terms=terms_of("store-58 wix"), limit=100)
    assert one.total == 0  # store-58 is shopify's (58 % 3 == 1)
    workspace = store.page_workspace("TL", terms=terms_of("U0YOU"), limit=100)
    assert workspace.total == 30 and {i.user_id for i in workspace.infos} == {"U0YOU"}
    past = store.page_for_user("TL", "U0ME", offset=500, limit=7)
    assert past.infos == [] and past.total == 30
