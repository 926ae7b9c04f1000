"""Requests in the store, on every backend: each step writes what a person is owed in its own
transaction (the outbox), an unanswered request is nudged once and then expires (with its
request.expired change), a provider's withdrawal deletes the key and tells the requester, and
a workspace can set its own delays."""

from __future__ import annotations

from datetime import timedelta

from bot.store import Store
from bot.store.requests import RequestInfo
from tests.storage_fixtures import TWO, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

TEAM = "T0TEAM"


def open_one(
    store: Store, *, provider: str = "U0PROV", nudge: int = 2, expire: int = 7
) -> RequestInfo:
    return store.open_request(
        team_id=TEAM, user_id="U0ASKER", provider_id=provider, platform=TWO.id, note="why",
        channel_id="C0CHAN", nudge_after=timedelta(days=nudge),
        expire_after=timedelta(days=expire), max_open=10,
    )  # fmt: skip


def owed(store: Store) -> list[tuple[str, str]]:
    return [(i.kind, i.user_id) for i in store.outbox_pending() if i.request_id]


def test_each_step_owes_its_message_to_the_right_person(store: Store) -> None:
    request = open_one(store)
    assert owed(store) == []  # the ask itself goes out at once, with its DM fallback
    store.request_moved(request.id, "opened")
    store.request_moved(request.id, "opened")  # a second press is not news
    store.request_moved(request.id, "failed", detail="The key was refused.")
    saved = store.save(team_id=TEAM, user_id="U0ASKER", flow=TWO, values=two_values(),
                       result=ok(), provided_by="U0PROV").credential  # fmt: skip
    store.request_moved(request.id, "fulfilled", credential_id=saved.id)
    assert owed(store) == [
        ("request-opened", "U0ASKER"),
        ("request-failed", "U0ASKER"),
        ("request-provided", "U0PROV"),
    ]
    assert all(i.request_id == request.id for i in store.outbox_pending() if i.request_id)
    # A closed request does not move again.
    assert store.request_moved(request.id, "cancelled") is None


def test_nudged_once_then_expired_with_its_change(store: Store, clock: Clock) -> None:
    request = open_one(store)
    other = open_one(store, provider="U0FAST")
    store.request_moved(other.id, "cancelled")
    assert store.nudge_requests() == [] and store.expire_requests() == []
    clock.advance(days=2, minutes=1)
    assert [r.id for r in store.nudge_requests()] == [request.id]
    assert store.nudge_requests() == []
    clock.advance(days=5)
    before = store.latest_change_id(TEAM)
    assert [r.id for r in store.expire_requests()] == [request.id]
    assert store.expire_requests() == [] and store.nudge_requests() == []
    assert store.get_request(request.id).state == "expired"
    (change,) = store.changes_since(TEAM, before)
    assert change.type == "request.expired" and change.data["platform"] == TWO.id
    assert owed(store) == [
        ("request-cancelled", "U0FAST"),
        ("request-nudge", "U0PROV"),
        ("request-expired", "U0ASKER"),
    ]


def test_a_request_that_expires_before_its_nudge_is_never_nudged(
    store: Store, clock: Clock
) -> None:
    open_one(store, nudge=3, expire=2)
    clock.advance(days=4)
    assert store.nudge_requests() == []
    assert len(store.expire_requests()) == 1


def test_withdraw_deletes_the_provided_key_and_tells_the_requester(store: Store) -> None:
    request = open_one(store)
    saved = store.save(team_id=TEAM, user_id="U0ASKER", flow=TWO, values=two_values(),
                       result=ok(), provided_by="U0PROV").credential  # fmt: skip
    store.request_moved(request.id, "fulfilled", credential_id=saved.id)
    ((listed, cred),) = store.provided_by_user(TEAM, "U0PROV")
    assert listed.id == request.id and cred.id == saved.id
    assert store.request_for_credential(saved.id).note == "why"

    done = store.withdraw_provided(request.id, actor="slack:T0TEAM:U0PROV")
    assert done is not None and done.state == "withdrawn"
    assert store.get(saved.id) is None and store.provided_by_user(TEAM, "U0PROV") == []
    assert ("request-withdrawn", "U0ASKER") in owed(store)
    assert [e.action for e in store.audit_events(saved.id)][-1] == "deleted"
    assert store.withdraw_provided(request.id, actor="slack:T0TEAM:U0PROV") is None


def test_withdraw_leaves_a_key_the_requester_replaced_with_their_own(store: Store) -> None:
    request = open_one(store)
    saved = store.save(team_id=TEAM, user_id="U0ASKER", flow=TWO, values=two_values(),
                       result=ok(), provided_by="U0PROV").credential  # fmt: skip
    store.request_moved(request.id, "fulfilled", credential_id=saved.id)
    store.save(team_id=TEAM, user_id="U0ASKER", flow=TWO, values=two_values(2), result=ok())
    assert store.withdraw_provided(request.id, actor="slack:T0TEAM:U0PROV") is None
    assert store.get(saved.id) is not None


def test_workspace_policy(store: Store) -> None:
    assert store.request_policy(TEAM) == (None, None)
    store.set_request_policy(TEAM, nudge_days=1, expire_days=3)
    assert store.request_policy(TEAM) == (1, 3)
    assert store.request_policy("T0OTHER") == (None, None)
    store.set_request_policy(TEAM, nudge_days=None, expire_days=None)
    assert store.request_policy(TEAM) == (None, None)


def test_new_requests_follow_the_workspace_policy(store: Store, clock: Clock) -> None:
    from types import SimpleNamespace

    from bot.services.credentials import Actor
    from bot.services.requests import Limits, Opened, RequestService

    offers_all = SimpleNamespace(offers=lambda *_: True)  # every platform is offered here
    service = RequestService(store, offers_all, Limits())  # type: ignore[arg-type]
    store.set_request_policy(TEAM, nudge_days=1, expire_days=3)
    opened = service.request(Actor(TEAM, "U0ASKER"), provider_id="U0PROV",
                             provider_team=TEAM, platform="wix")  # fmt: skip
    assert isinstance(opened, Opened)
    assert opened.request.expires_at == clock.now + timedelta(days=3)
    clock.advance(days=1, minutes=1)
    assert [r.id for r in store.nudge_requests()] == [opened.request.id]
    elsewhere = service.request(Actor("T0OTHER", "U0ASKER"), provider_id="U0PROV",
                                provider_team="T0OTHER", platform="wix")  # fmt: skip
    assert isinstance(elsewhere, Opened)
    assert elsewhere.request.expires_at == clock.now + timedelta(days=7)
