"""The daily re-check checks each key for the job it was stored for (issue 19): a read-and-write
BigCommerce key whose scopes no longer allow writing is reported failing, naming the scopes to
set to Modify, in words that do not claim the key stopped working; a read key with the same
read-only scopes stays verified. Against the local BigCommerce and the local Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.store import Store
from flows import catalog
from flows.base import VerifyResult
from tests.builders import confirmed
from tests.platforms import bigcommerce as bc
from tests.storage_fixtures import START, Clock
from tests.test_reminders import OWNER, TEAM, FaultyStandIn, make_reminders, running_standin
from tests.test_reminders_recheck import http_to

pytest_plugins = ("tests.storage_fixtures",)

BIGCOMMERCE = catalog.get("bigcommerce")


@pytest.fixture
def standin() -> Iterator[FaultyStandIn]:
    yield from running_standin()


@pytest.fixture
def server() -> Iterator[bc.BigCommerceServer]:
    with bc.BigCommerceServer() as running:
        yield running


def save(store: Store, token: str, purpose: str, name: str, user: str = OWNER) -> str:
    values = {"credentials_file": "", "store_hash": bc.HASH, "access_token": token}
    info = store.save(team_id=TEAM, user_id=user, flow=BIGCOMMERCE, values=values,
                      result=VerifyResult(ok=True, store_name=name), purpose=purpose,
                      rotation_days=365).credential
    confirmed(store, info.id)
    return info.id


def test_a_write_key_that_lost_modify_is_reported_naming_the_scopes(
    store: Store, standin: FaultyStandIn, clock: Clock, server: bc.BigCommerceServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reminders = make_reminders(store, standin, clock, http=http_to(server))
    writer = save(store, bc.TOKEN, "write", "Import Shop")
    # The same store's read-only account, another person's key (a key per person and store).
    reader = save(store, bc.READ_ONLY_TOKEN, "read", "Export Shop", user="U0PERSON2")

    clock.now = START + timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert store.get(writer).status == "verified" and store.get(reader).status == "verified"
    assert server.writes == []  # the write probes never change the store

    # The account's scopes drop to read-only (as if it were READ_ONLY_TOKEN's).
    monkeypatch.setitem(bc.MODIFY, bc.TOKEN, frozenset())
    clock.now = START + timedelta(days=2, minutes=2)
    told = reminders.recheck(clock.now)
    assert [(t.stage, t.owner) for t in told] == [("failing", OWNER)]
    failing = store.get(writer)
    assert failing.status == "failing" and "Products: Modify" in failing.missing
    assert store.get(reader).status == "verified"  # read-only scopes are what it needs
    (dm,) = standin.dms()  # the only message: to the writer's owner
    blocks = str(dm.args["blocks"])
    assert dm.args["channel"] == "D" + OWNER[1:]
    assert "no longer has the permissions its job needs" in dm.args["text"]
    assert "read and write" in blocks and "Products: Modify" in blocks
    assert "revoked? rotated elsewhere?" not in blocks
    assert bc.TOKEN not in str(dm.args)
    assert server.writes == []

    # Modify granted again: verified, and a later loss is a new episode.
    monkeypatch.setitem(bc.MODIFY, bc.TOKEN, bc.ALL)
    clock.now = START + timedelta(days=3, minutes=3)
    assert reminders.recheck(clock.now) == []
    assert store.get(writer).status == "verified" and store.get(writer).missing == []
