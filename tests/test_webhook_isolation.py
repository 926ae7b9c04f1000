"""One webhook receiver harms nobody else: a receiver that holds its request holds only its
own workspace, a trickling one is cut off by the per-attempt deadline, an endless error body is
not read, and a URL that cannot be sent to is recorded as a failed attempt every time and
given up after the documented count. Receivers run on 127.0.0.1, so the sender allows private
addresses (GETKEY_WEBHOOK_ALLOW_PRIVATE); the policy itself is tested in test_webhook_urls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.jobs.webhooks import MAX_BODY, WebhookSender
from bot.store import Store
from bot.store.sharing_models import Webhook
from bot.store.webhooks import MAX_ATTEMPTS
from bot.workers import Workers
from tests.storage_fixtures import TWO, Clock, ok, two_values
from tests.webhook_receivers import BadReceiver

pytest_plugins = ["tests.storage_fixtures"]


@pytest.fixture
def workers() -> Iterator[Workers]:
    w = Workers(slow_threads=2, quick_threads=4)
    yield w
    w.close()


def sender(store: Store, workers: Workers, clock: Clock, seconds: float = 30.0) -> WebhookSender:
    return WebhookSender(store, workers, clock=clock, allow_private=True, attempt_seconds=seconds)


def event_for(store: Store, team: str, n: int) -> None:
    store.save(team_id=team, user_id="U1", flow=TWO, values=two_values(n, store=f"s{n}"),
               result=ok())  # fmt: skip


def test_a_stalled_receiver_holds_only_its_own_workspace(
    store: Store, workers: Workers, clock: Clock
) -> None:
    stalled, fine = BadReceiver("stall"), BadReceiver("ok")
    store.set_webhook("TSLOW", stalled.url, allow_private=True)
    store.set_webhook("TFINE", fine.url, allow_private=True)
    hooks = sender(store, workers, clock)

    async def scenario() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        event_for(store, "TSLOW", 1)
        first = asyncio.create_task(hooks.drain())
        assert await asyncio.to_thread(stalled.got_request.wait, 30)
        # Another workspace's event, while the first receiver still holds its request: the
        # next drain sends it (and leaves the busy workspace alone, keeping its order).
        event_for(store, "TFINE", 2)
        event_for(store, "TSLOW", 3)
        second = await asyncio.wait_for(hooks.drain(), 30)
        assert not stalled.finished.is_set()
        stalled.release.set()
        return second, await asyncio.wait_for(first, 30)

    try:
        second, first = asyncio.run(scenario())
    finally:
        stalled.close()
        fine.close()
    fine_ids = [d.id for d in store.deliveries("TFINE")]
    assert second == [(fine_ids[0], 200)] and len(fine.received) == 1
    slow = store.deliveries("TSLOW")
    assert first == [(slow[0].id, 200)] and slow[0].delivered
    assert not slow[1].delivered and slow[1].attempts == 0  # waits its turn, in order


def test_a_trickling_receiver_is_cut_off_by_the_attempt_deadline(
    store: Store, workers: Workers, clock: Clock
) -> None:
    trickle = BadReceiver("trickle")
    store.set_webhook("TDRIP", trickle.url, allow_private=True)
    event_for(store, "TDRIP", 1)
    try:
        # A short deadline keeps the test quick; the outer wait only stops a hung sender.
        done = asyncio.run(asyncio.wait_for(sender(store, workers, clock, 1.5).drain(), 60))
        assert trickle.finished.wait(30)  # getkey hung up on it
    finally:
        trickle.close()
    (info,) = store.deliveries("TDRIP")
    assert done == [(info.id, 0)] and not info.delivered
    assert "no complete answer within 1.5 s" in info.tries[0][2]
    assert trickle.bytes_sent >= 1  # it did answer, slowly


def test_an_endless_error_body_is_not_read(store: Store, workers: Workers, clock: Clock) -> None:
    huge = BadReceiver("huge")
    store.set_webhook("THUGE", huge.url, allow_private=True)
    event_for(store, "THUGE", 1)
    try:
        done = asyncio.run(asyncio.wait_for(sender(store, workers, clock).drain(), 60))
        assert huge.finished.wait(30)
    finally:
        huge.close()
    (info,) = store.deliveries("THUGE")
    assert done == [(info.id, 500)] and info.tries[0][1:] == (500, "HTTP 500")
    # getkey read a few KiB and hung up: what the receiver managed to push is socket
    # buffers' worth, not the 300 MiB it offered.
    assert MAX_BODY <= huge.bytes_sent < 32 * 2**20


def test_a_url_that_cannot_be_sent_to_is_an_attempt_every_time_then_given_up(
    store: Store, engine: sa.engine.Engine, workers: Workers, clock: Clock
) -> None:
    store.set_webhook("TBAD", "https://hooks.example.com/x")
    with engine.begin() as conn:  # stored before the policy existed
        conn.execute(sa.update(Webhook).values(url="http://hooks.example.com:abc/"))
    event_for(store, "TBAD", 1)
    hooks = sender(store, workers, clock)
    for _ in range(MAX_ATTEMPTS):
        assert len(asyncio.run(hooks.drain())) == 1
        clock.advance(hours=2)
    assert asyncio.run(hooks.drain()) == []
    (info,) = store.deliveries("TBAD")
    assert info.attempts == MAX_ATTEMPTS == len(info.tries)
    assert info.done_at is not None and not info.delivered
    assert all(status == 0 and "port" in error for _, status, error in info.tries)
