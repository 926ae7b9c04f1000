"""/metrics (issue 17): off without GETKEY_METRICS_TOKEN, a bearer token otherwise, text that
prometheus-client's own parser reads, and each family moves when its event happens: a journey
through the local Slack and Wix, then reminders against a Slack that answers 429."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from tests.bot_fixtures import BOT_TOKEN, RunningBot, start_bot
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackStandIn
from tests.storage_fixtures import START
from tests.test_reminders import (  # fixtures and helpers, not tests
    FaultyStandIn,
    make_reminders,
    running_standin,
    save_wix,
)
from tests.test_slack_journey import good, open_wix_form

pytest_plugins = ("tests.bot_fixtures", "tests.storage_fixtures")

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        running, stop = start_bot(tmp_path_factory.mktemp("metered"), standin, [wix],
                                  extra_env={"GETKEY_METRICS_TOKEN": METRICS_TOKEN})
        try:
            yield running
        finally:
            stop()


def scrape(bot: RunningBot) -> Samples:
    reply = httpx.get(bot.url + "/metrics",
                      headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return parse(reply.text)


def test_metrics_are_off_without_a_token(bot):
    assert httpx.get(bot.url + "/metrics").status_code == 404


def test_metrics_need_the_bearer_token(metered):
    assert httpx.get(metered.url + "/metrics").status_code == 401
    wrong = httpx.get(metered.url + "/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "getkey_" not in wrong.text


def test_each_family_moves_with_its_event(metered):
    bot, store = metered, metered.runtime.store
    before = scrape(bot)
    team, user = bot.slack.team_id, "U0METRICS"
    person = bot.person(user)

    # A slash command: one request of kind "command", acked with 200, its ack timed.
    view_id = open_wix_form(dataclasses.replace(bot, slack=person))
    after_command = scrape(bot)
    assert value(after_command, "getkey_slack_requests_total", kind="command", status="200") \
        == value(before, "getkey_slack_requests_total", kind="command", status="200") + 1
    assert value(after_command, "getkey_slack_ack_seconds_count", kind="command") \
        == value(before, "getkey_slack_ack_seconds_count", kind="command") + 1

    # A webhook is set, so the verified key below leaves a delivery waiting (no scheduler runs
    # in tests: it stays in the backlog).
    store.set_webhook(team, "https://hooks.example.com/getkey")
    # A verification: Wix accepts the key.
    ack = person.submit(view_id, good()).json()
    assert ack["response_action"] == "update", ack
    bot.standin.updated(view_id)
    bot.standin.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "D0METRICS")
    after = scrape(bot)
    assert value(after, "getkey_verifications_total", platform="wix", outcome="ok") \
        == value(before, "getkey_verifications_total", platform="wix", outcome="ok") + 1
    assert value(after, "getkey_verification_seconds_count", platform="wix") \
        == value(before, "getkey_verification_seconds_count", platform="wix") + 1
    assert value(after, "getkey_webhook_backlog") >= 1
    assert value(after, "getkey_webhook_oldest_age_seconds") >= 0

    # An owed Slack message waits in the outbox until it is sent.
    store.enqueue_message("stored", team_id=team, user_id=user)
    waiting = scrape(bot)
    assert value(waiting, "getkey_outbox_backlog") >= 1

    # The tool API: a call with a wrong token is counted by its status (404 while no token
    # exists in the workspace, 401 after).
    refused = httpx.get(bot.url + "/api/v1/credentials", headers={"Authorization": "Bearer x"})
    status = str(refused.status_code)
    assert status in ("401", "404")
    last = scrape(bot)
    assert value(last, "getkey_api_requests_total", status=status) \
        == value(waiting, "getkey_api_requests_total", status=status) + 1
    # The process collectors are there too.
    assert value(last, "process_resident_memory_bytes") > 0


def registry() -> Samples:
    return parse(generate_latest(metrics.REGISTRY).decode())


@pytest.fixture
def slow_slack() -> Iterator[FaultyStandIn]:
    yield from running_standin()


def test_reminders_and_slack_rate_limits_are_counted(store, slow_slack, clock):
    reminders = make_reminders(store, slow_slack, clock)
    save_wix(store, expires_at=START + timedelta(days=30))
    before = registry()
    # A 429 with a short Retry-After: slack_sdk waits and retries; the DM goes out.
    slow_slack.fail("chat.postMessage", 429, {"ok": False, "error": "ratelimited"},
                    {"Retry-After": "1"})
    assert len(reminders.sweep(START + timedelta(days=16))) == 1
    sent = registry()
    assert value(sent, "getkey_reminders_total", outcome="sent") \
        == value(before, "getkey_reminders_total", outcome="sent") + 1
    assert value(sent, "getkey_slack_rate_limited_total") \
        == value(before, "getkey_slack_rate_limited_total") + 1
    assert value(sent, "getkey_slack_retries_total", reason="rate_limited") \
        == value(before, "getkey_slack_retries_total", reason="rate_limited") + 1

    # A long rate limit: not retried inside the sweep; the next reminder is deferred.
    slow_slack.fail("chat.postMessage", 429, {"ok": False, "error": "ratelimited"},
                    {"Retry-After": "3600"})
    assert reminders.sweep(START + timedelta(days=28)) == []
    deferred = registry()
    assert value(deferred, "getkey_reminders_total", outcome="deferred") \
        == value(sent, "getkey_reminders_total", outcome="deferred") + 1
    assert value(deferred, "getkey_slack_rate_limited_total") \
        == value(sent, "getkey_slack_rate_limited_total") + 1
    assert value(deferred, "getkey_slack_retries_total", reason="rate_limited") \
        == value(sent, "getkey_slack_retries_total", reason="rate_limited")
