"""The per-platform request budget (flows.budget) and the short memory of identical submissions
(flows.recent), through the shared HTTP layer and the local Ecwid, which blocks its caller as
Ecwid documents: "after 20 requests per minute or a total of 600 requests with non-working
tokens per IP" (docs.ecwid.com/api-reference)."""

from __future__ import annotations

import threading
import time

import pytest

from flows.base import Failure
from flows.budget import Budget, Ledger, OverBudget
from flows.ecwid import FLOW
from flows.http import PlatformHttp
from tests.conftest import GENEROUS_TIMEOUT
from tests.manual_clock import ManualClock
from tests.platforms import ecwid as ec


def _http(server: ec.EcwidServer, clock: ManualClock, **kw: float) -> PlatformHttp:
    return PlatformHttp(environ={server.env_name(): server.url}, total_timeout=GENEROUS_TIMEOUT,
                        connect_timeout=GENEROUS_TIMEOUT, clock=clock.now, sleep=clock.sleep, **kw)


def _bad(n: int) -> dict[str, str]:
    return {"store_id": ec.STORE_ID, "secret_token": f"secret_Bad{n:05d}" + "x" * 24}


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def server(clock):
    with ec.EcwidServer(clock=clock.now) as s:
        yield s


def test_a_burst_of_bad_tokens_never_gets_this_host_blocked(server, clock):
    http = _http(server, clock)
    results = [FLOW.run_verify(_bad(n), http) for n in range(45)]
    assert not server.blocked and server.bad_token_calls > 0
    assert ec.EcwidServer.most_in_any_minute(server.call_times) <= FLOW.budget.calls
    refused = [r for r in results if r.failure is Failure.BAD_CREDENTIAL]
    held = [r for r in results if r.failure is Failure.RATE_LIMITED]
    assert len(refused) + len(held) == 45 and refused and held
    # Held back by getkey itself, with the wait, never by Ecwid's block.
    assert all("holding back" in r.detail and r.retry_after for r in held)
    assert len(server.requests) == len(refused)


def test_the_budget_waits_for_room_when_allowed_to(server, clock):
    http = _http(server, clock, interactive_wait=3600.0)
    results = [FLOW.run_verify(_bad(n), http) for n in range(45)]
    assert all(r.failure is Failure.BAD_CREDENTIAL for r in results)
    assert len(server.requests) == 45 and not server.blocked
    assert ec.EcwidServer.most_in_any_minute(server.call_times) <= FLOW.budget.calls


def test_re_checks_leave_part_of_the_budget_to_people(server, clock):
    http = _http(server, clock)
    background = http.for_background()
    background.background_wait = 0.0
    sent_in_background = 0
    for n in range(FLOW.budget.calls):
        if FLOW.run_verify(_bad(n), background).failure is Failure.BAD_CREDENTIAL:
            sent_in_background += 1
    assert sent_in_background == FLOW.budget.limit(background=True) < FLOW.budget.calls
    # A person still gets through at once, on the part kept for people.
    person = FLOW.run_verify(_bad(999), http)
    assert person.failure is Failure.BAD_CREDENTIAL


def test_a_working_token_gives_its_refused_place_back():
    clock = ManualClock()
    budget = Budget(calls=100, refused=2, refused_per_seconds=3600)
    ledger = Ledger(budget, clock=clock.now, sleep=clock.sleep)
    for _ in range(5):
        ledger.reserve(background=False, max_wait=0).settle(200)
    assert ledger.spent() == (5, 0)
    ledger.reserve(background=False, max_wait=0).settle(403)
    ledger.reserve(background=False, max_wait=0).settle(None)  # no answer: still counted
    with pytest.raises(OverBudget) as exc:
        ledger.reserve(background=False, max_wait=0)
    assert 3590 < exc.value.retry_after <= 3600


def test_the_limit_holds_across_threads():
    budget = Budget(calls=5, per_seconds=0.3)
    ledger = Ledger(budget)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(4):
            ticket = ledger.reserve(background=False, max_wait=30)
            with lock:
                stamps.append(ticket.at)
            ticket.settle(200)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(stamps) == 32
    stamps.sort()
    for i, at in enumerate(stamps):
        inside = [s for s in stamps[i:] if s < at + budget.per_seconds]
        assert len(inside) <= budget.calls


# -- identical submissions within seconds are checked once --------------------------------
def test_identical_resubmission_within_seconds_is_checked_once(server, clock):
    http = _http(server, clock)
    first = FLOW.run_verify(_bad(1), http)
    again = FLOW.run_verify(_bad(1), http)
    assert first.failure is again.failure is Failure.BAD_CREDENTIAL
    assert len(server.requests) == 1
    good = FLOW.run_verify(ec.good_values(), http)
    assert good.ok and len(server.requests) == 3  # profile + permissions: new values


def test_an_inconclusive_answer_is_not_kept(server, clock):
    http = _http(server, clock)
    server.fault = "server_error"
    assert FLOW.run_verify(_bad(7), http).failure is Failure.UNREACHABLE
    server.fault = None
    assert FLOW.run_verify(_bad(7), http).failure is Failure.BAD_CREDENTIAL
    assert len(server.requests) == 2


def test_the_memory_is_short_and_keeps_no_secret(server):
    http = PlatformHttp(environ={server.env_name(): server.url}, total_timeout=GENEROUS_TIMEOUT)
    http.recent.ttl = 0.2
    values = _bad(3)
    FLOW.run_verify(values, http)
    kept = repr(http.recent._entries)
    assert values["secret_token"] not in kept
    assert values["secret_token"].encode() not in b"".join(http.recent._entries)
    time.sleep(0.3)
    FLOW.run_verify(values, http)
    assert len(server.requests) == 2
