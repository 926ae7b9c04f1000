"""Issue 9, load: acks never wait for slow work, and a person whose check must wait is told.

The real app runs on uvicorn (tests.bot_fixtures.start_bot) in front of a local Wix that hangs:
it answers each request only after the bot's platform timeout has passed. Every request is
sent with a 3 s client timeout, Slack's own limit for an ack: an answer later than that is what
Slack shows a person as an error (this is behaviour, not a benchmark)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.slack.ui import ids
from tests.platforms import ecwid as ecwid_platform
from tests.platforms import wix as wix_platform
from tests.platforms.ecwid import EcwidServer
from tests.platforms.wix import WixServer
from tests.resilience_support import Capture, assert_secret_nowhere, capturing, fields, open_form
from tests.slack_standin import Reply, SlackStandIn, check_view, find_element
from tests.slack_standin import visible_text as visible

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

SLACK_ACK_LIMIT = 3.0  # seconds: Slack's limit for every ack
PLATFORM_TIMEOUT = 6.0  # the bot's client timeout towards platforms
HANG = 12.0  # how long the hanging Wix sleeps before answering: beyond the client timeout
OLD_LISTENER_THREADS = 32  # the old code's one pool, shared by acks and verifications


@pytest.fixture
def hanging(tmp_path: Path) -> Iterator[Callable[..., RunningBot]]:
    """Start a bot whose Wix hangs (and whose Ecwid answers); `extra_env` tunes it."""
    from tests.bot_fixtures import start_bot  # imported late: pytest rewrites it as a plugin

    stops: list[Callable[[], None]] = []
    with SlackStandIn(bot_token="xoxb-1111-2222-standinbottoken") as standin, \
            WixServer() as wix, EcwidServer() as ecwid:
        wix.fault, wix.slow_seconds = "timeout", HANG

        def start(**extra_env: str) -> RunningBot:
            bot, stop = start_bot(
                tmp_path, standin, [wix, ecwid], extra_env=extra_env,
                platform_timeout=PLATFORM_TIMEOUT,
            )  # fmt: skip
            stops.append(stop)
            return bot

        try:
            yield start
        finally:
            for stop in stops:
                stop()


@pytest.fixture
def logs() -> Iterator[Capture]:
    with capturing() as capture:
        yield capture


def submit_all(bot: RunningBot, forms: dict[str, str], values: dict[str, str]) -> dict[str, Reply]:
    """Every person submits their form at the same moment, each with Slack's 3 s timeout.
    A missing reply is an ack Slack would have shown as an error."""
    replies: dict[str, Reply] = {}
    failures: dict[str, str] = {}
    start = threading.Barrier(len(forms))

    def one(person: str, view_id: str) -> None:
        start.wait()
        try:
            replies[person] = bot.person(person).submit(
                view_id, fields(values), timeout=SLACK_ACK_LIMIT
            )
        except httpx.TimeoutException:
            failures[person] = "no ack within 3 s"

    threads = [threading.Thread(target=one, args=item) for item in forms.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures, f"{len(failures)} acks missed Slack's 3 s limit"
    return replies


def updates_of(bot: RunningBot, view_id: str) -> list:
    return [c for c in bot.standin.calls_to("views.update") if c.args["view_id"] == view_id]


def test_a_hanging_platform_never_delays_anyone_elses_ack(hanging, logs: Capture) -> None:
    """40 people submit a Wix key while Wix hangs; `/getkey help` and another platform's
    guide are still answered within Slack's 3 s, and each of the 40 sees exactly one outcome.

    The old code ran every listener on one pool of 32 threads that also ran verifications:
    32 hanging checks held every thread, so the 33rd submission, `/getkey help` and every other
    request got no ack at all (Slack showed an error), and a person whose request Slack had
    already given up on later saw a success for the same key."""
    bot = hanging()
    people = [f"U{n:03d}HANG" for n in range(40)]
    assert len(people) > OLD_LISTENER_THREADS
    forms = {p: open_form(bot.person(p), "wix") for p in people}

    acks = submit_all(bot, forms, wix_platform.good_values())
    for reply in acks.values():
        assert reply.status == 200
        ack = reply.json()
        assert ack["response_action"] == "update"
        assert "Checking the key with Wix" in visible(check_view(ack["view"]))

    # Every one of the 40 checks is now waiting on Wix, all at once (the old code: 32 at most).
    deadline = time.monotonic() + 10
    while len(bot.platforms["wix"].requests) < len(people) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(bot.platforms["wix"].requests) == len(people)

    # While they hang: help, another platform's guide and its form open, each within 3 s.
    someone = bot.person("U0BYSTANDR")
    helped = someone.command("help", timeout=SLACK_ACK_LIMIT)
    assert helped.status == 200
    find_element(helped.json()["blocks"], ids.PICK_PLATFORM)
    guide = someone.command("ecwid", timeout=SLACK_ACK_LIMIT)
    assert guide.status == 200 and "Ecwid" in visible(guide.json())
    answered_at = time.monotonic()
    # Still hanging when those were answered: nobody's outcome had been shown yet.
    assert all(updates_of(bot, v) == [] for v in forms.values())

    # Each hanging person eventually sees exactly one outcome: Wix could not be reached, and
    # nothing was stored; never an error followed by a success.
    bot.standin.wait_for(
        "views.update", len(people), where=lambda c: c.args["view_id"] in forms.values(),
        timeout=PLATFORM_TIMEOUT * 4,
    )  # fmt: skip
    time.sleep(1.0)  # room for a second, contradicting update to show up
    for person, view_id in forms.items():
        (outcome,) = updates_of(bot, view_id)
        assert outcome.at > answered_at
        shown = visible(check_view(outcome.args["view"]))
        assert "Could not reach Wix" in shown and "Nothing was stored" in shown
        assert bot.runtime.store.list_for_user(bot.slack.team_id, person) == []
    assert bot.standin.calls_to("chat.postMessage") == []  # no "stored" DM for anyone
    assert logs.text.count("submission finished") >= len(people)  # the log was captured
    assert_secret_nowhere(wix_platform.KEY, logs=logs.text, standin=bot.standin,
                          db_path=bot.db_path)


def test_a_person_whose_check_must_wait_is_told_it_is_queued(hanging, logs: Capture) -> None:
    """With few verification threads (GETKEY_LISTENER_THREADS=2: one per platform at a
    time), a second Wix submission while the first hangs is acked with a view saying the check
    is queued; an Ecwid submission meanwhile is verified at once (one platform's queue never
    holds another's); both Wix people get one outcome each, in turn.

    The old code had no queue it could see: the second person got the same "usually takes a
    few seconds" view (or no ack at all once the threads were taken) and no hint why their
    check took twice as long; every platform shared the same threads."""
    bot = hanging(GETKEY_LISTENER_THREADS="2")
    first, second, other = "U0FIRSTWX", "U0SECONDW", "U0ECWIDPR"
    forms = {p: open_form(bot.person(p), "wix") for p in (first, second)}
    ecwid_form = open_form(bot.person(other), "ecwid")
    wix = bot.platforms["wix"]

    ack = bot.person(first).submit(forms[first], fields(wix_platform.good_values()),
                                   timeout=SLACK_ACK_LIMIT).json()
    shown = visible(check_view(ack["view"]))
    assert "Checking the key with Wix" in shown and "queued" not in shown
    deadline = time.monotonic() + 10
    while not wix.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(wix.requests) == 1  # the first check holds Wix's only slot

    ack = bot.person(second).submit(forms[second], fields(wix_platform.good_values()),
                                    timeout=SLACK_ACK_LIMIT).json()
    queued = visible(check_view(ack["view"]))
    assert "Checking the key with Wix" in queued
    assert "yours is queued" in queued and "Keep this window open" in queued

    # Another platform is not held up by Wix's queue: verified and stored while Wix hangs.
    ack = bot.person(other).submit(ecwid_form, fields(ecwid_platform.good_values()),
                                   timeout=SLACK_ACK_LIMIT).json()
    assert "queued" not in visible(check_view(ack["view"]))
    (verified,) = bot.standin.wait_for(
        "views.update", where=lambda c: c.args["view_id"] == ecwid_form, timeout=10
    )
    assert "Ecwid key verified" in visible(check_view(verified.args["view"]))
    assert updates_of(bot, forms[first]) == [] and updates_of(bot, forms[second]) == []
    assert len(wix.requests) == 1  # the queued one has not reached Wix yet

    # The queued check runs once the first is over: one outcome each, in turn.
    for person in (first, second):
        bot.standin.wait_for(
            "views.update", where=lambda c, p=person: c.args["view_id"] == forms[p],
            timeout=PLATFORM_TIMEOUT * 4,
        )  # fmt: skip
    time.sleep(0.5)
    (one,), (two,) = updates_of(bot, forms[first]), updates_of(bot, forms[second])
    assert one.at < two.at
    for call in (one, two):
        assert "Could not reach Wix" in visible(check_view(call.args["view"]))
    assert len(wix.requests) == 2
    for secret in (wix_platform.KEY, ecwid_platform.SECRET):
        assert_secret_nowhere(secret, logs=logs.text, standin=bot.standin, db_path=bot.db_path)
