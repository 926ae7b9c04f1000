"""The periodic re-verification and the R-Series renewal, against local platform servers and
the local Slack, with the store's clock under the test's control."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.store import Store
from flows import catalog
from flows import lightspeed_r as lsr_flow
from flows.base import VerifyResult
from flows.http import PlatformHttp
from tests.conftest import GENEROUS_TIMEOUT
from tests.platforms import lightspeed_r as lsr
from tests.platforms.server import Request, Response
from tests.platforms.wix import WixServer
from tests.storage_fixtures import START, Clock
from tests.test_reminders import (
    OWNER,
    TEAM,
    FaultyStandIn,
    Reminders,
    Sleeps,
    confirmed,
    make_reminders,
    running_standin,
    save_wix,
    text_of,
)

pytest_plugins = ("tests.storage_fixtures",)

R_SERIES = catalog.get("lightspeed-r")


class RevocableWix(WixServer):
    """Wix as documented, plus a switch: a revoked key gets Wix's 401."""

    def __init__(self) -> None:
        super().__init__()
        self.revoked = False

    def handle(self, req: Request) -> Response:
        if self.revoked:
            return Response(401, {"message": "UNAUTHENTICATED"})
        return super().handle(req)


@pytest.fixture
def standin() -> Iterator[FaultyStandIn]:
    yield from running_standin()


@pytest.fixture
def wix_server() -> Iterator[RevocableWix]:
    with RevocableWix() as server:
        yield server


@pytest.fixture
def lsr_server() -> Iterator[lsr.LightspeedRServer]:
    with lsr.LightspeedRServer() as server:
        yield server


def http_to(*servers: Any) -> PlatformHttp:
    return PlatformHttp(environ={s.env_name(): s.url for s in servers},
                        total_timeout=GENEROUS_TIMEOUT, connect_timeout=GENEROUS_TIMEOUT)


def failing_dms(standin: FaultyStandIn) -> list[Any]:
    return [c for c in standin.dms() if "no longer works" in text_of(c)]


# -- re-verification -----------------------------------------------------------------------------
def test_a_key_that_stops_working_gets_one_dm_per_episode(
    store: Store, standin: FaultyStandIn, clock: Clock, wix_server: RevocableWix
) -> None:
    reminders = make_reminders(store, standin, clock, http=http_to(wix_server))
    info = save_wix(store)
    # Not due yet: nothing is checked.
    assert reminders.recheck(START + timedelta(hours=1)) == []
    assert wix_server.requests == []
    # Daily check, key fine.
    clock.now = START + timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert len(wix_server.requests) == 1
    assert store.get(info.id).status == "verified"
    # Revoked on Wix: the next daily check says so, once.
    wix_server.revoked = True
    clock.now = START + timedelta(days=2, minutes=2)
    told = reminders.recheck(clock.now)
    assert [t.stage for t in told] == ["failing"]
    assert store.get(info.id).status == "failing"
    (dm,) = failing_dms(standin)
    text = text_of(dm)
    assert "revoked? rotated elsewhere?" in text and "The Plant Shop" in text
    assert "Rotate now" in text and "Delete" in text
    # A refused key is not tried the next day (back-off: 3 days after the refusal).
    clock.now = START + timedelta(days=3, minutes=3)
    assert reminders.recheck(clock.now) == []
    assert len(failing_dms(standin)) == 1
    assert len(wix_server.requests) == 2
    # Working again by then, then broken again: a new episode, a new DM.
    wix_server.revoked = False
    clock.now = START + timedelta(days=5, minutes=5)
    assert reminders.recheck(clock.now) == []
    assert len(wix_server.requests) == 3
    assert store.get(info.id).status == "verified"
    wix_server.revoked = True
    clock.now = START + timedelta(days=6, minutes=6)
    assert len(reminders.recheck(clock.now)) == 1
    assert len(failing_dms(standin)) == 2


def test_checks_of_one_platform_are_spaced_out(
    store: Store, standin: FaultyStandIn, clock: Clock, wix_server: RevocableWix
) -> None:
    sleeps = Sleeps()
    reminders = make_reminders(store, standin, clock, http=http_to(wix_server),
                               sleep=sleeps.sleep, monotonic=sleeps.monotonic, platform_gap=0.5)
    for n in range(3):
        save_wix(store, account=f"6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5{n}")
    clock.now = START + timedelta(days=1, minutes=1)
    reminders.recheck(clock.now)
    assert len(wix_server.requests) == 3
    assert len(sleeps.waits) == 2 and all(0.4 < w <= 0.5 for w in sleeps.waits)


def test_a_platform_outage_is_not_called_a_broken_key(
    store: Store, standin: FaultyStandIn, clock: Clock, wix_server: RevocableWix
) -> None:
    reminders = make_reminders(store, standin, clock, http=http_to(wix_server))
    info = save_wix(store)
    wix_server.fault = "server_error"
    clock.now = START + timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert store.get(info.id).status == "verified"
    assert standin.dms() == []
    # Checked again sooner than a day later, and this time it answers.
    wix_server.fault = None
    clock.now += timedelta(hours=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert len(wix_server.requests) == 2


def test_the_failing_dm_survives_slack_being_busy(
    store: Store, standin: FaultyStandIn, clock: Clock, wix_server: RevocableWix
) -> None:
    reminders = make_reminders(store, standin, clock, http=http_to(wix_server))
    save_wix(store)
    wix_server.revoked = True
    standin.fail("chat.postMessage", 429, {"ok": False, "error": "ratelimited"},
                 {"Retry-After": "0"})
    clock.now = START + timedelta(days=1, minutes=1)
    assert len(reminders.recheck(clock.now)) == 1
    assert len(failing_dms(standin)) == 1


def test_a_failing_dm_slack_refused_is_sent_by_a_later_check(
    store: Store, standin: FaultyStandIn, clock: Clock, wix_server: RevocableWix
) -> None:
    reminders = make_reminders(store, standin, clock, http=http_to(wix_server))
    info = save_wix(store)
    wix_server.revoked = True
    standin.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=5)
    clock.now = START + timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert failing_dms(standin) == []
    assert store.get(info.id).status == "failing"
    # Slack is back: the owner is told at the next check, minutes later, not a day later.
    standin.faults.clear()
    clock.now += timedelta(minutes=11)
    assert [t.stage for t in reminders.recheck(clock.now)] == ["failing"]
    assert len(failing_dms(standin)) == 1


def test_expired_keys_are_left_to_the_expiry_reminders(
    store: Store, standin: FaultyStandIn, clock: Clock, wix_server: RevocableWix
) -> None:
    reminders = make_reminders(store, standin, clock, http=http_to(wix_server))
    save_wix(store, expires_at=START + timedelta(hours=12))
    wix_server.revoked = True
    clock.now = START + timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert wix_server.requests == []
    assert failing_dms(standin) == []


# -- R-Series renewal --------------------------------------------------------------------------
def save_r_series(
    store: Store, server: lsr.LightspeedRServer, *, lifetime: float = 120, auto_renew: bool = True
) -> Any:
    # An access token expiring soon; the server knows it and its refresh token.
    access = lsr.make_token(exp=time.time() + lifetime)
    server.valid.add(access)
    values = {"access_token": access, "refresh_token": lsr.REFRESH}
    result = VerifyResult(ok=True, store_name="Green Leaf Garden Supply",
                          expires_at=lsr_flow.expires_at(access))
    # The owner ticked "Let getkey renew this token" (renewal revokes other copies).
    info = store.save(team_id=TEAM, user_id=OWNER, flow=R_SERIES, values=values,
                      result=result, auto_renew=auto_renew).credential
    confirmed(store, info.id)
    return info, values


CLIENT_ENV = {"GETKEY_LIGHTSPEED_R_CLIENT_ID": lsr.CLIENT_ID,
              "GETKEY_LIGHTSPEED_R_CLIENT_SECRET": lsr.CLIENT_SECRET}


def r_reminders(store: Store, standin: FaultyStandIn, clock: Clock,
                server: lsr.LightspeedRServer, environ: dict[str, str]) -> Reminders:
    return make_reminders(store, standin, clock, http=http_to(server), platform_env=environ)


def no_tokens_in_slack(standin: FaultyStandIn, *tokens: str) -> None:
    for call in [*standin.calls, *standin.failed]:
        for token in tokens:
            assert token.encode() not in call.raw


def test_r_series_is_renewed_before_it_lapses_and_stored_atomically(
    store: Store, standin: FaultyStandIn, clock: Clock, lsr_server: lsr.LightspeedRServer
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)
    info, old = save_r_series(store, lsr_server)
    reminders = r_reminders(store, standin, clock, lsr_server, CLIENT_ENV)
    # Renewed before the token lapses (15 minutes, or half its remaining life), not after.
    assert info.next_reminder_at < info.expires_at
    clock.now = info.next_reminder_at
    assert reminders.sweep(clock.now) == []  # renewed, nobody bothered
    new = store.secret_values(info.id)
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    # The new pair works (the server revoked the old refresh token when it was used).
    assert new["refresh_token"] in lsr_server.refresh_tokens
    assert old["refresh_token"] not in lsr_server.refresh_tokens
    after = store.get(info.id)
    # (An hour-long token always counts as "expiring" for the store's status.)
    assert after.status != "failing"
    assert [e.action for e in store.audit_events(info.id)][-2:] == ["secret_replaced", "verified"]
    assert after.expires_at is not None and after.expires_at > info.expires_at
    # The next renewal is planned, ahead of the new expiry.
    assert after.next_reminder_at is not None
    assert info.expires_at < after.next_reminder_at < after.expires_at
    assert "secret_replaced" in [e.action for e in store.audit_events(info.id)]
    assert standin.dms() == []
    no_tokens_in_slack(standin, *old.values(), *new.values())


def test_a_failed_renewal_reminds_the_owner_once(
    store: Store, standin: FaultyStandIn, clock: Clock, lsr_server: lsr.LightspeedRServer
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)
    info, old = save_r_series(store, lsr_server)
    lsr_server.refresh_tokens.clear()  # disconnected on Lightspeed's side: invalid_grant
    reminders = r_reminders(store, standin, clock, lsr_server, CLIENT_ENV)
    clock.now = info.expires_at
    # The sweep renews instead of reminding; the failure is written to the outbox with the
    # failed check and sent from there.
    assert reminders.sweep(clock.now) == []
    assert [s.stage for s in reminders.outbox()] == ["renew-failed"]
    assert store.audit_events(info.id)[-1].action == "failed"
    (dm,) = standin.dms()
    assert "could not refresh" in text_of(dm) and "Rotate now" in text_of(dm)
    # The daily check finds it still broken: no second DM for the same episode.
    clock.now += timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert reminders.sweep(clock.now) == []
    assert len(standin.dms()) == 1
    assert store.secret_values(info.id) == old
    no_tokens_in_slack(standin, *old.values())


def test_wrong_client_credentials_are_the_operators_problem(
    store: Store, standin: FaultyStandIn, clock: Clock, lsr_server: lsr.LightspeedRServer
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)
    info, old = save_r_series(store, lsr_server)
    env = {**CLIENT_ENV, "GETKEY_LIGHTSPEED_R_CLIENT_SECRET": "wrong" + lsr.CLIENT_SECRET[5:]}
    reminders = r_reminders(store, standin, clock, lsr_server, env)
    clock.now = info.expires_at
    assert reminders.sweep(clock.now) == []
    assert "failed" not in [e.action for e in store.audit_events(info.id)]
    assert standin.dms() == []
    # Not retried every minute (that gets an app rate-limited)...
    assert reminders.sweep(clock.now + timedelta(minutes=1)) == []
    assert len([r for r in lsr_server.requests if r.path == "/auth/oauth/token"]) == 1
    # ...but by the daily check, which renews once the operator has fixed the secret.
    reminders.service.platform_env = CLIENT_ENV
    clock.now += timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert store.secret_values(info.id)["refresh_token"] != old["refresh_token"]


def test_without_client_credentials_the_owner_is_reminded_instead(
    store: Store, standin: FaultyStandIn, clock: Clock, lsr_server: lsr.LightspeedRServer
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)
    info, _ = save_r_series(store, lsr_server)
    reminders = r_reminders(store, standin, clock, lsr_server, {})
    sent = reminders.sweep(info.expires_at)
    assert [s.stage for s in sent] == ["expiry-0d"]
    assert lsr_server.requests == []
    assert "expired" in json.dumps(standin.dms()[0].args["blocks"])


def test_a_token_whose_owner_did_not_opt_in_is_never_renewed(
    store: Store, standin: FaultyStandIn, clock: Clock, lsr_server: lsr.LightspeedRServer
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)
    info, old = save_r_series(store, lsr_server, auto_renew=False)
    reminders = r_reminders(store, standin, clock, lsr_server, CLIENT_ENV)
    # Another tool may hold the same refresh token: refreshing would cut it off. The owner is
    # reminded instead, and the token endpoint is never called.
    sent = reminders.sweep(info.expires_at)
    assert [s.stage for s in sent] == ["expiry-0d"]
    assert [r for r in lsr_server.requests if r.path == "/auth/oauth/token"] == []
    clock.now += timedelta(days=1, minutes=1)
    reminders.recheck(clock.now)
    assert store.secret_values(info.id) == old


def test_the_daily_check_renews_a_lapsed_r_series_connection(
    store: Store, standin: FaultyStandIn, clock: Clock, lsr_server: lsr.LightspeedRServer
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)
    info, old = save_r_series(store, lsr_server)
    store.stop_reminders(info.id, actor="test")  # no expiry reminder to renew it on time
    reminders = r_reminders(store, standin, clock, lsr_server, CLIENT_ENV)
    clock.now += timedelta(days=1, minutes=1)
    assert reminders.recheck(clock.now) == []
    assert store.secret_values(info.id)["access_token"] != old["access_token"]
    assert store.audit_events(info.id)[-1].action == "verified"
