"""Requests under pressure, on both backends: "Send again" at most once an hour (the refusal
says from when), a verification that finishes after its request was cancelled keeps the key
as provided (linked, withdrawable, the requester told) instead of an orphan, and a request
made in an Enterprise Grid org stores the provided key under the whole identity (org, team,
person): listed for the requester, theirs to delete, and purged with the org."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.services.credentials import CredentialService
from bot.services.outcomes import Actor, Stored
from bot.services.requests import Limits, Opened, Refused, RequestService
from bot.store import Store
from bot.store.outbox import REQUEST_PROVIDED
from flows.base import VerifyResult
from tests.storage_fixtures import Clock, TwoSecretFlow, two_values

pytest_plugins = ["tests.storage_fixtures"]

TEAM, ORG = "T0TEAM", "E0ORG"


class AcceptingFlow(TwoSecretFlow):
    """Verifies without a network: every well-formed key is accepted."""

    def verify(self, values: Mapping[str, str], http: Any) -> VerifyResult:
        return VerifyResult(ok=True, store_name="Grid Shop")


FLOW = AcceptingFlow()


def opened(store: Store, enterprise_id: str | None = None) -> str:
    return store.open_request(
        team_id=TEAM, user_id="U0ASKER", provider_id="U0PROV", platform="wix", note="",
        channel_id=None, nudge_after=timedelta(days=2), expire_after=timedelta(days=7),
        max_open=10, enterprise_id=enterprise_id,
    ).id  # fmt: skip


def test_send_again_at_most_once_an_hour(store: Store, clock: Clock) -> None:
    service = RequestService(store, None, Limits())  # type: ignore[arg-type]
    request_id = opened(store)
    asker = Actor(TEAM, "U0ASKER")
    assert isinstance(service.resend(request_id, asker), Opened)
    clock.advance(minutes=59)
    again = service.resend(request_id, asker)
    assert isinstance(again, Refused) and "send it again from <!date^" in again.reason
    when = int((clock.now + timedelta(minutes=1)).timestamp())
    assert f"<!date^{when}^" in again.reason
    assert isinstance(service.resend(request_id, Actor(TEAM, "U0OTHER")), Refused)
    clock.advance(minutes=1)
    third = service.resend(request_id, asker)
    assert isinstance(third, Opened) and third.request.resent_at == clock.now


class CancelledMeanwhile(CredentialService):
    """The requester cancels while the platform is being asked (the race, made certain)."""

    def submit(self, flow: Any, values: Any, **kw: Any) -> Any:  # type: ignore[override]
        self.store.request_moved(self.request_id, "cancelled")
        return super().submit(flow, values, **kw)


def test_a_key_verified_after_its_request_closed_is_kept_as_provided(store: Store) -> None:
    request_id = opened(store)
    credentials = CancelledMeanwhile(store, http=None)  # type: ignore[arg-type]
    credentials.request_id = request_id  # type: ignore[attr-defined]
    service = RequestService(store, credentials, Limits())
    store.request_moved(request_id, "opened")
    provider = Actor(TEAM, "U0PROV")
    outcome = service.submit(request_id, FLOW, two_values(), provider=provider,
                             view_id="V0LATE", view_hash="h")  # fmt: skip
    assert isinstance(outcome, Stored)
    request = store.get_request(request_id)
    assert request is not None and request.state == "fulfilled"
    assert request.credential_id == outcome.info.id
    # The provider is told it was provided (with Withdraw), the requester owns it.
    owed = [m for m in store.outbox_pending() if m.request_id == request_id]
    assert REQUEST_PROVIDED in {m.kind for m in owed}
    assert [c.id for c in store.list_for_user(TEAM, "U0ASKER")] == [outcome.info.id]
    # Not an orphan: the provider can withdraw it.
    withdrawn = service.withdraw(request_id, provider)
    assert not isinstance(withdrawn, Refused) and store.get(outcome.info.id) is None


def test_a_grid_request_stores_the_key_under_the_whole_identity(
    store: Store, clock: Clock
) -> None:
    request_id = opened(store, enterprise_id=ORG)
    credentials = CredentialService(store, http=None)  # type: ignore[arg-type]
    service = RequestService(store, credentials, Limits())
    provider = Actor(TEAM, "U0PROV", ORG)
    outcome = service.submit(request_id, FLOW, two_values(), provider=provider,
                             view_id="V0GRID", view_hash="h")  # fmt: skip
    assert isinstance(outcome, Stored) and outcome.info.enterprise_id == ORG
    asker = Actor(TEAM, "U0ASKER", ORG)
    listed = store.list_for_user(TEAM, "U0ASKER", ORG)
    assert [c.id for c in listed] == [outcome.info.id] and asker.owns(listed[0])
    # The requester can cancel their own (Grid) requests, nobody else can.
    other = opened(store, enterprise_id=ORG)
    assert isinstance(service.cancel(other, Actor(TEAM, "U0ASKER")), Refused)
    assert not isinstance(service.cancel(other, asker), Refused)
    # The org uninstalls getkey: after the retention period the key is purged with it.
    store.uninstall(ORG, None, actor="slack:app_uninstalled")
    clock.advance(days=31)
    assert store.purge_uninstalled(30) >= 1
    assert store.get(outcome.info.id) is None
