"""Re-checks against Ecwid's documented block (issue 18): the daily re-check of many keys that
stopped working never gets this host blocked, and a refused key is re-checked with back-off
(1, 3, 7 days between checks, then not until its owner acts) instead of daily forever.

The platform budget runs on a hand-moved clock (tests.manual_clock) shared with the local Ecwid,
so ten minutes of budgeted calls take milliseconds; the store runs on the usual test clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.store import Store
from flows import catalog
from flows.base import VerifyResult
from flows.http import PlatformHttp
from tests.conftest import GENEROUS_TIMEOUT
from tests.manual_clock import ManualClock
from tests.platforms import ecwid as ec
from tests.storage_fixtures import START, Clock
from tests.test_reminders import (
    OWNER,
    TEAM,
    FaultyStandIn,
    confirmed,
    make_reminders,
    running_standin,
)

pytest_plugins = ("tests.storage_fixtures",)

ECWID = catalog.get("ecwid")
HOW_MANY = 100


@pytest.fixture
def standin() -> Iterator[FaultyStandIn]:
    yield from running_standin()


@pytest.fixture
def budget_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ecwid(budget_clock: ManualClock) -> Iterator[ec.EcwidServer]:
    with ec.EcwidServer(clock=budget_clock.now) as server:
        yield server


def _save_ecwid(store: Store, n: int, store_id: str, token: str) -> str:
    values = {"store_id": store_id, "secret_token": token}
    result = VerifyResult(ok=True, store_name=f"Shop {n}")
    info = store.save(team_id=TEAM, user_id=OWNER, flow=ECWID, values=values,
                      result=result).credential
    confirmed(store, info.id)
    return info.id


def test_a_hundred_dead_ecwid_keys_never_get_this_host_blocked(
    store: Store, standin: FaultyStandIn, clock: Clock, budget_clock: ManualClock,
    ecwid: ec.EcwidServer,
) -> None:
    http = PlatformHttp(environ={ecwid.env_name(): ecwid.url}, total_timeout=GENEROUS_TIMEOUT,
                        connect_timeout=GENEROUS_TIMEOUT, clock=budget_clock.now,
                        sleep=budget_clock.sleep, background_wait=3600.0)
    async def paced(seconds: float) -> None:
        budget_clock.sleep(seconds)

    reminders = make_reminders(store, standin, clock, http=http, sleep=paced,
                               monotonic=budget_clock.now)
    # One re-check at a time towards Ecwid, so the hand-moved clock stamps each call when it
    # is sent (the budget's own thread safety has its test in test_request_budget).
    reminders.workers.per_platform = 1
    epoch = budget_clock.now()
    stores = list(ec.EXTRA_STORES.items())[:HOW_MANY]
    ids = [_save_ecwid(store, n, sid, tok) for n, (sid, tok) in enumerate(stores)]
    # Every app is uninstalled: the tokens stop working.
    ecwid.revoked.update(tok for _, tok in stores)

    def day(n: int) -> int:
        # Each driver run is a new event loop; the per-platform semaphore belongs to one.
        reminders.workers._platforms.clear()
        # Both clocks move to the same day (the budget counts refusals per day too).
        budget_clock.advance(max(0.0, epoch + n * 86_400 - budget_clock.now()))
        before = len(ecwid.requests)
        clock.now = START + timedelta(days=n, minutes=n)
        reminders.recheck(clock.now)
        return len(ecwid.requests) - before

    first = day(1)
    assert first == HOW_MANY
    assert all(store.get(i).status == "failing" for i in ids)
    # Ecwid's block never triggered; no minute saw more than getkey's limit.
    assert not ecwid.blocked
    assert ec.EcwidServer.most_in_any_minute(ecwid.call_times) <= ECWID.budget.calls
    assert ec.EcwidServer.most_in_any_minute(ecwid.bad_times) < ec.BAD_PER_MINUTE
    # The next day sends fewer calls than the first: known-refused keys wait.
    second = day(2)
    assert second < first
    assert second == 0
    # Then 3 days after the refusal, 7 days after that, and never again on their own.
    calls = {n: day(n) for n in range(3, 31)}
    assert {n for n, c in calls.items() if c} == {4, 11}
    assert calls[4] == calls[11] == HOW_MANY
    assert not ecwid.blocked
    assert ec.EcwidServer.most_in_any_minute(ecwid.call_times) <= ECWID.budget.calls


def test_a_key_its_owner_submits_again_is_checked_daily_again(
    store: Store, standin: FaultyStandIn, clock: Clock, budget_clock: ManualClock,
    ecwid: ec.EcwidServer,
) -> None:
    http = PlatformHttp(environ={ecwid.env_name(): ecwid.url}, total_timeout=GENEROUS_TIMEOUT,
                        clock=budget_clock.now, sleep=budget_clock.sleep)
    async def paced(seconds: float) -> None:
        budget_clock.sleep(seconds)

    reminders = make_reminders(store, standin, clock, http=http, sleep=paced,
                               monotonic=budget_clock.now)
    sid, tok = next(iter(ec.EXTRA_STORES.items()))
    cid = _save_ecwid(store, 0, sid, tok)
    ecwid.revoked.add(tok)
    for n in (1, 4, 11):
        clock.now = START + timedelta(days=n, minutes=n)
        reminders.recheck(clock.now)
    assert len(ecwid.requests) == 3
    clock.now = START + timedelta(days=40)
    reminders.recheck(clock.now)
    assert len(ecwid.requests) == 3  # stopped
    # The owner fixes the app and submits the key again: daily checks resume.
    ecwid.revoked.clear()
    again = _save_ecwid(store, 0, sid, tok)
    assert again == cid
    clock.now = START + timedelta(days=41, minutes=1)
    reminders.recheck(clock.now)
    assert len(ecwid.requests) == 5  # profile + permissions
    assert store.get(cid).status == "verified"


def test_re_checks_are_paced_to_the_budget_before_they_take_a_thread(
    store: Store, standin: FaultyStandIn, clock: Clock
) -> None:
    reminders = make_reminders(store, standin, clock, platform_gap=0.5)
    gaps = reminders._recheck._gap
    # Ecwid: 60 s / the re-checks' share of 15 calls; Wix declares no budget of its own.
    assert gaps("ecwid") == 60.0 / ECWID.budget.limit(background=True) == 6.0
    assert gaps("wix") == 0.5
