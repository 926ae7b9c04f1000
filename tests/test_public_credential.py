"""One public credential object: the API, the change feed and the webhooks describe a credential
with the same fields, and its `status` is the one at the moment described: a
`credential.expiring` change says "expiring" (it said "verified" before issue 15)."""

from __future__ import annotations

from datetime import timedelta

from bot.http.api import credential_json
from bot.store import Store
from bot.store import changes as change_types
from bot.vocabulary import CredentialStatus
from flows.base import Failure, VerifyResult
from tests.storage_fixtures import TWO, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]


def test_an_expiring_change_says_expiring_and_matches_the_api(store: Store, clock: Clock) -> None:
    saved = store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(1),
        result=ok(expires_at=clock.now + timedelta(days=20)),
    ).credential  # fmt: skip
    # Six days on, the 14-day reminder goes out: tools hear "expiring" with the owner.
    clock.advance(days=6, minutes=1)
    (due,) = store.claim_due(clock.now)
    store.mark_sent(due.reminder_id)
    feed = store.changes_since("T1")
    assert [c.type for c in feed] == [change_types.VERIFIED, change_types.EXPIRING]
    stored, expiring = (c.data["credential"] for c in feed)
    assert stored["status"] == CredentialStatus.VERIFIED
    assert expiring["status"] == CredentialStatus.EXPIRING
    api = credential_json(store.get(saved.id))
    assert api["status"] == "expiring"
    assert set(api) == set(expiring)
    assert {k: v for k, v in api.items() if k != "last_checked_at"} == {
        k: v for k, v in expiring.items() if k != "last_checked_at"
    }
    assert "masked" not in api and "SECRET" not in str(api) and "SECRET" not in str(expiring)


def test_a_failing_key_says_failing_everywhere(store: Store, clock: Clock) -> None:
    saved = store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(1), result=ok()
    ).credential
    store.record_check(saved.id, VerifyResult.failed(Failure.BAD_CREDENTIAL, "Revoked."))
    (failing,) = [c for c in store.changes_since("T1") if c.type == change_types.FAILING]
    assert failing.data["credential"]["status"] == "failing"
    assert credential_json(store.get(saved.id))["status"] == "failing"
