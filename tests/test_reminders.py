"""Reminders end to end through the local Slack: the real Store (SQLite, and PostgreSQL when
GETKEY_TEST_POSTGRES_URL is set), a clock the tests move, and the sweep sending real HTTP
requests to the Slack stand-in, which can be told to fail (429, 500, ok:false)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.store import Store
from flows import catalog
from flows.base import VerifyResult
from tests.builders import confirmed, credential_info
from tests.platforms import wix
from tests.reminder_driver import Driver
from tests.slack_standin import Call, SlackStandIn, _decode
from tests.storage_fixtures import START, Clock

pytest_plugins = ("tests.storage_fixtures",)

TOKEN = "xoxb-1111-2222-reminderstoken"
OWNER = "U0PERSON1"
OTHER = "U0PERSON2"
TEAM = "T0GETKEY1"
WIX = catalog.get("wix")
SECRETS = (wix.KEY, wix.LIMITED_KEY)


class FaultyStandIn(SlackStandIn):
    """The Slack stand-in, plus queued failures per Web API method: each queued answer
    (status, body, headers) is used once, before the method answers normally again."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.faults: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self.failed: list[Call] = []
        standin = self
        base = self.httpd.RequestHandlerClass

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                method = self.path.removeprefix("/api/").split("?")[0]
                fault = standin.take_fault(method)
                if fault is None:
                    super().do_POST()
                    return
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with standin._lock:
                    standin.failed.append(
                        Call(method, _decode(headers.get("content-type", ""), raw), raw, headers)
                    )
                status, body, extra = fault
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd.RequestHandlerClass = Handler

    def fail(self, method: str, status: int, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, times: int = 1) -> None:
        with self._lock:
            self.faults.setdefault(method, []).extend(
                [(status, body or {"ok": False, "error": "fatal_error"}, headers or {})] * times
            )

    def take_fault(self, method: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        with self._lock:
            queue = self.faults.get(method) or []
            return queue.pop(0) if queue else None

    def dms(self) -> list[Call]:
        return self.calls_to("chat.postMessage")


def running_standin() -> Iterator[FaultyStandIn]:
    with FaultyStandIn(bot_token=TOKEN) as s:
        yield s
        # Whatever a test did, no raw secret ever reached Slack.
        for call in [*s.calls, *s.failed]:
            for secret in SECRETS:
                assert secret.encode() not in call.raw, f"secret sent to Slack in {call.method}"


@pytest.fixture
def standin() -> Iterator[FaultyStandIn]:
    yield from running_standin()


class Sleeps:
    """Stands in for the senders' sleep/monotonic: records every wait and moves a virtual
    monotonic clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


Reminders = Driver


def make_reminders(store: Store, standin: SlackStandIn, clock: Clock, **kw: Any) -> Driver:
    return Driver(store, standin.api_url, TOKEN, clock, **kw)


@pytest.fixture
def reminders(store: Store, standin: FaultyStandIn, clock: Clock) -> Driver:
    return make_reminders(store, standin, clock)


def save_wix(
    store: Store,
    *,
    user: str = OWNER,
    expires_at: datetime | None = None,
    rotation_days: int = 365,
    key: str = wix.KEY,
    account: str = wix.ACCOUNT,
    name: str = "The Plant Shop",
) -> Any:
    values = {"api_key": key, "account_id": account, "site_id": ""}
    result = VerifyResult(ok=True, store_name=name, expires_at=expires_at)
    info = store.save(team_id=TEAM, user_id=user, flow=WIX, values=values, result=result,
                      rotation_days=rotation_days).credential
    confirmed(store, info.id)
    return info


def stages(sent: list[Any]) -> list[str]:
    return [s.stage for s in sent]


def text_of(call: Call) -> str:
    return json.dumps(call.args.get("blocks")) + call.args.get("text", "")


# -- the schedule ---------------------------------------------------------------------------------
def test_each_expiry_stage_fires_once_at_its_moment(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    expires = START + timedelta(days=30)
    save_wix(store, expires_at=expires)
    moments = [
        (expires - timedelta(days=14), "expiry-14d"),
        (expires - timedelta(days=3), "expiry-3d"),
        (expires - timedelta(days=1), "expiry-1d"),
        (expires, "expiry-0d"),
    ]
    for due, stage in moments:
        assert reminders.sweep(due - timedelta(minutes=1)) == [], f"{stage} came early"
        assert stages(reminders.sweep(due)) == [stage]
        assert reminders.sweep(due + timedelta(minutes=1)) == [], f"{stage} came twice"
    assert reminders.sweep(expires + timedelta(days=400)) == []
    dms = standin.dms()
    assert len(dms) == 4
    # Sent to the owner's DM, one call each: posted to their user id, which Slack delivers to
    # the app's conversation with them.
    assert {(c.sent_channel, c.args["channel"]) for c in dms} == {(OWNER, "D" + OWNER[1:])}
    assert not standin.calls_to("conversations.open")
    first = text_of(dms[0])
    # Which credential, and why now. The expiry is a Slack date token for the exact instant,
    # so each reader sees it in their own time zone; the fallback says UTC.
    assert "Wix" in first and "The Plant Shop" in first and wix.KEY[-4:] in first
    assert "in 14 days" in first
    when = f"<!date^{int(expires.timestamp())}^{{date_long}} at {{time}}|"
    assert when + "Thursday 14 February 2030 at 09:00 UTC>" in first
    assert f"It *expired* on {when}" in text_of(dms[3])


def test_every_button_is_on_the_reminder(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    info = save_wix(store, expires_at=START + timedelta(days=20))
    reminders.sweep(START + timedelta(days=6))
    (dm,) = standin.dms()
    buttons = [
        e for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert [b["text"]["text"] for b in buttons] == [
        "Rotate now", "Snooze 1 day", "Snooze 1 week", "Stop reminding", "Delete"
    ]
    assert {b["value"] for b in buttons} == {info.id}
    delete = buttons[-1]
    assert delete["confirm"]["confirm"]["text"] == "Delete"


def test_rotation_due_then_weekly_while_overdue(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    save_wix(store, rotation_days=30)
    due = START + timedelta(days=30)
    assert reminders.sweep(due - timedelta(hours=1)) == []
    assert stages(reminders.sweep(due)) == ["rotation-due"]
    assert reminders.sweep(due + timedelta(days=6)) == []
    assert stages(reminders.sweep(due + timedelta(days=7))) == ["rotation-overdue-1"]
    assert stages(reminders.sweep(due + timedelta(days=14))) == ["rotation-overdue-2"]
    texts = [text_of(c) for c in standin.dms()]
    assert "due for rotation" in texts[0]
    assert "overdue" in texts[1] and "1 week ago" in texts[1]


def test_rotating_restarts_the_schedule(
    store: Store, reminders: Reminders, standin: FaultyStandIn, clock: Clock
) -> None:
    old = save_wix(store, expires_at=START + timedelta(days=30))
    clock.advance(days=10)
    new = save_wix(store, key=wix.LIMITED_KEY, expires_at=START + timedelta(days=100))
    assert new.id == old.id and new.masked != old.masked
    # The old key's 14-day reminder (day 16) no longer exists...
    assert reminders.sweep(START + timedelta(days=17)) == []
    # ...the new one's does.
    sent = reminders.sweep(START + timedelta(days=86))
    assert stages(sent) == ["expiry-14d"]
    assert sent[0].masked == new.masked


def test_snooze_delays_the_reminder(
    store: Store, reminders: Reminders, clock: Clock
) -> None:
    info = save_wix(store, expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    clock.now = due
    store.snooze(info.id, due + timedelta(days=1), actor="test")
    assert reminders.sweep(due) == []
    assert reminders.sweep(due + timedelta(hours=23)) == []
    assert stages(reminders.sweep(due + timedelta(days=1))) == ["expiry-14d"]


def test_snoozing_a_sent_reminder_brings_it_back_later(
    store: Store, reminders: Reminders, clock: Clock
) -> None:
    info = save_wix(store, expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    assert stages(reminders.sweep(due)) == ["expiry-14d"]
    clock.now = due + timedelta(minutes=5)
    store.snooze(info.id, clock.now + timedelta(weeks=1), actor="test")
    assert reminders.sweep(clock.now + timedelta(days=6)) == []
    sent = reminders.sweep(clock.now + timedelta(weeks=1))
    assert len(sent) == 1 and sent[0].stage.startswith("expiry-")


def test_stop_silences(store: Store, reminders: Reminders, standin: FaultyStandIn) -> None:
    info = save_wix(store, expires_at=START + timedelta(days=30), rotation_days=10)
    store.stop_reminders(info.id, actor="test")
    for days in (10, 16, 27, 29, 30, 40, 400):
        assert reminders.sweep(START + timedelta(days=days)) == []
    assert standin.dms() == []


def test_deleting_cancels(store: Store, reminders: Reminders, standin: FaultyStandIn) -> None:
    info = save_wix(store, expires_at=START + timedelta(days=30), rotation_days=10)
    store.delete(info.id, actor="test")
    for days in (10, 16, 30, 400):
        assert reminders.sweep(START + timedelta(days=days)) == []
    assert standin.dms() == []


def test_a_process_killed_after_claiming_loses_nothing(
    store: Store, reminders: Reminders
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    # Another process claims the reminder and dies before sending it.
    assert len(store.claim_due(due, lease_seconds=300)) == 1
    assert reminders.sweep(due + timedelta(minutes=1)) == []  # still leased to the dead one
    assert stages(reminders.sweep(due + timedelta(minutes=6))) == ["expiry-14d"]
    assert reminders.sweep(due + timedelta(minutes=20)) == []


# -- Slack trouble -------------------------------------------------------------------------------
def test_429_with_real_waiting_through_the_sdk_client(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    """slack_sdk's retry handler waits Retry-After (1 s), then the DM goes out."""
    save_wix(store, expires_at=START + timedelta(days=30))
    standin.fail("chat.postMessage", 429, {"ok": False, "error": "ratelimited"},
                 {"Retry-After": "1"})
    assert stages(reminders.sweep(START + timedelta(days=16))) == ["expiry-14d"]
    assert [c.method for c in standin.failed] == ["chat.postMessage"]
    assert len(standin.dms()) == 1


def test_a_long_rate_limit_leaves_the_reminder_due(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    standin.fail("chat.postMessage", 429, {"ok": False, "error": "ratelimited"},
                 {"Retry-After": "3600"})
    due = START + timedelta(days=16)
    # Never waits an hour inside a sweep (the sweep returns, so this test finishes): the
    # reminder is left due and goes out with the next sweep.
    assert reminders.sweep(due) == []
    assert len(standin.failed) == 1
    assert stages(reminders.sweep(due + timedelta(minutes=1))) == ["expiry-14d"]


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, {"ok": False, "error": "internal_error"}),
     (503, {"ok": False, "error": "service_unavailable"}),
     (200, {"ok": False, "error": "fatal_error"})],
    ids=["500", "503", "ok-false"],
)
def test_a_slack_error_leaves_the_reminder_for_the_next_sweep(
    store: Store, reminders: Reminders, standin: FaultyStandIn, status: int, body: dict[str, Any]
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    # A 5xx twice: slack_sdk's server-error handler retries it once within the call.
    standin.fail("chat.postMessage", status, body, times=2 if status >= 500 else 1)
    assert reminders.sweep(due) == []
    assert standin.dms() == []
    assert stages(reminders.sweep(due + timedelta(minutes=1))) == ["expiry-14d"]
    assert reminders.sweep(due + timedelta(minutes=2)) == []
    assert len(standin.dms()) == 1


def test_failures_given_back_wait_for_the_next_sweep(
    store: Store, standin: FaultyStandIn, clock: Clock
) -> None:
    reminders = make_reminders(store, standin, clock, batch=2)
    for n in range(3):
        save_wix(store, user=f"U0BATCH{n:03d}", expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    standin.fail("chat.postMessage", 200, {"ok": False, "error": "fatal_error"}, times=100)
    assert reminders.sweep(due) == []
    # One batch tried, then the sweep ends instead of claiming the same rows again.
    assert len(standin.failed) == 2
    standin.faults.clear()
    # Next sweep: batch after batch until everything due is sent.
    assert len(reminders.sweep(due + timedelta(minutes=1))) == 3


def test_an_outage_stops_the_sweep_and_keeps_everything_due(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    for n, user in enumerate((OWNER, OTHER, "U0PERSON3")):
        save_wix(store, user=user, account=f"6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5{n}",
                 expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    standin.fail("chat.postMessage", 503, {"ok": False, "error": "service_unavailable"}, times=5)
    assert reminders.sweep(due) == []
    # One failed call (retried once by slack_sdk), not one per reminder: a down Slack is
    # not hammered.
    assert len(standin.failed) == 2
    standin.faults.clear()
    sent = reminders.sweep(due + timedelta(minutes=1))
    assert sorted(s.owner for s in sent) == sorted([OWNER, OTHER, "U0PERSON3"])


def test_an_owner_who_left_does_not_block_the_queue(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    due = START + timedelta(days=16)
    # Slack finds no conversation with them, and opening one says why: they are gone.
    standin.fail("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
    standin.fail("conversations.open", 200, {"ok": False, "error": "user_not_found"})
    assert reminders.sweep(due) == []
    assert [c.method for c in standin.failed] == ["chat.postMessage", "conversations.open"]
    # Dropped (and logged), not retried every minute forever.
    assert reminders.sweep(due + timedelta(minutes=1)) == []
    assert standin.dms() == []


def test_a_dm_slack_cannot_find_goes_to_the_conversation_it_opens(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    standin.fail("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
    assert stages(reminders.sweep(START + timedelta(days=16))) == ["expiry-14d"]
    (opened,) = standin.calls_to("conversations.open")
    assert opened.args["users"] == OWNER
    # Posted once more, to the conversation Slack opened: one reminder, not two.
    (dm,) = standin.dms()
    assert dm.sent_channel == opened.response["channel"]["id"]


def test_messages_to_one_person_are_paced(
    store: Store, standin: FaultyStandIn, clock: Clock
) -> None:
    other_dm = "D" + OTHER[1:]

    class WaitingForOther(Sleeps):
        """The owner's pacing wait holds until the other owner's DM has gone out: if that DM
        queued behind the owner's, this would never happen (and the wait gives up)."""

        async def sleep(self, seconds: float) -> None:
            for _ in range(1000):
                if any(c.args["channel"] == other_dm for c in standin.dms()):
                    break
                await asyncio.sleep(0.01)
            await super().sleep(seconds)

    sleeps = WaitingForOther()
    reminders = make_reminders(store, standin, clock, sleep=sleeps.sleep,
                               monotonic=sleeps.monotonic, user_gap=1.0)
    for n in range(3):
        save_wix(store, account=f"6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5{n}",
                 expires_at=START + timedelta(days=30))
    save_wix(store, user=OTHER, expires_at=START + timedelta(days=30))
    sent = reminders.sweep(START + timedelta(days=16))
    assert len(sent) == 4
    # The owner with three reminders waits about a second between them; nobody else waits,
    # and the other owner's DM does not queue behind them.
    assert sorted(s.owner for s in sent) == sorted([OWNER, OTHER, OWNER, OWNER])
    assert len(sleeps.waits) == 2 and all(0.9 <= w <= 1.0 for w in sleeps.waits)
    assert [c.args["channel"] for c in standin.dms()].index("D" + OTHER[1:]) < 3


def test_two_sweepers_in_one_process_send_each_reminder_once(
    store: Store, standin: FaultyStandIn, clock: Clock
) -> None:
    for n in range(12):
        save_wix(store, user=f"U0MANY{n:04d}", expires_at=START + timedelta(days=30))
    a = make_reminders(store, standin, clock, batch=3)
    b = make_reminders(store, standin, clock, batch=3)
    results: list[list[Any]] = [[], []]
    due = START + timedelta(days=16)
    threads = [threading.Thread(target=lambda i=i, r=r: results[i].extend(r.sweep(due)))
               for i, r in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    owners = sorted(s.owner for s in results[0] + results[1])
    assert owners == sorted(f"U0MANY{n:04d}" for n in range(12))
    assert len(standin.dms()) == 12


def test_reminders_need_no_time_zone_lookup(
    store: Store, reminders: Reminders, standin: FaultyStandIn
) -> None:
    # Slack formats the date for each reader, so a sweep makes no users.info call per person.
    save_wix(store, expires_at=START + timedelta(days=30))
    reminders.sweep(START + timedelta(days=16))
    assert len(standin.dms()) == 1
    assert standin.calls_to("users.info") == []
    assert "<!date^" in text_of(standin.dms()[0])


def test_reminder_text_for_an_already_expired_key() -> None:
    from bot.slack.ui.reminders import stage_reason

    info = _info(expires_at=START, status="expired")
    text = stage_reason(info, "expiry-0d", START + timedelta(hours=2))
    assert "expired" in text and "09:00 UTC" in text


def _info(**changes: Any) -> Any:
    return credential_info(**{"team_id": TEAM, "user_id": OWNER, "verified_at": START,
                              "last_checked_at": START, "created_at": START, **changes})


def test_store_names_cannot_inject_mrkdwn() -> None:
    from bot.slack.ui.reminders import reminder_message

    message = reminder_message(_info(store_name="<!channel> <https://evil|x>"), "rotation-due",
                               START)
    mrkdwn = _mrkdwn_texts(message["blocks"])
    assert mrkdwn and all("<!channel>" not in t and "<https" not in t for t in mrkdwn)
    assert any("&lt;!channel&gt;" in t for t in mrkdwn)


def _mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text object in a block tree (plain_text cannot mention or link)."""
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn_texts(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") == "mrkdwn" else []
    return found + [t for v in node.values() for t in _mrkdwn_texts(v)]

