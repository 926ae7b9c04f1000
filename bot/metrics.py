"""Every Prometheus metric getkey exports, in one place (served at /metrics, see
bot/http/probes.py; each one is explained in docs/operations.md).

Code points call the small functions below (one line each where the event happens); nothing
here reads the database except `Backlog`, which the /metrics handler refreshes per scrape.
Label values are closed sets (request kinds, platform ids, outcomes, HTTP statuses): never an
id, a team, a URL or anything a person typed.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    platform_collector,
    process_collector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

# Slack's deadline for an ack is 3 s: the buckets resolve the part under it finely.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_VERIFY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)

SLACK_REQUESTS = Counter(
    "getkey_slack_requests", "Requests from Slack, by kind and HTTP status of the ack.",
    ["kind", "status"], registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "getkey_slack_ack_seconds", "Time from a Slack request's arrival to its ack, by kind.",
    ["kind"], buckets=_ACK_BUCKETS, registry=REGISTRY,
)
VERIFICATIONS = Counter(
    "getkey_verifications", "Live verifications of a credential, by platform and outcome.",
    ["platform", "outcome"], registry=REGISTRY,
)
VERIFY_SECONDS = Histogram(
    "getkey_verification_seconds", "Duration of a live verification, by platform.",
    ["platform"], buckets=_VERIFY_BUCKETS, registry=REGISTRY,
)
REMINDERS = Counter(
    "getkey_reminders",
    "Due reminders: sent, deferred to a later sweep (Slack down, failed, out of "
    "time), dropped (the owner cannot get DMs) or renewed instead.",
    ["outcome"], registry=REGISTRY,
)
SLACK_RATE_LIMITED = Counter(
    "getkey_slack_rate_limited", "Slack Web API calls answered 429 (rate limited).",
    registry=REGISTRY,
)
SLACK_RETRIES = Counter(
    "getkey_slack_retries", "Slack Web API calls tried again (after a 429, a 5xx or a network "
    "error).", ["reason"], registry=REGISTRY,
)
API_REQUESTS = Counter(
    "getkey_api_requests", "Calls to the tool API (/api/v1), by HTTP status.",
    ["status"], registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "getkey_outbox_backlog", "Slack messages owed and not yet delivered.", registry=REGISTRY,
)
OUTBOX_AGE = Gauge(
    "getkey_outbox_oldest_age_seconds", "Age of the oldest undelivered Slack message (0: none).",
    registry=REGISTRY,
)
WEBHOOK_BACKLOG = Gauge(
    "getkey_webhook_backlog", "Webhook events not yet delivered.", registry=REGISTRY,
)
WEBHOOK_AGE = Gauge(
    "getkey_webhook_oldest_age_seconds", "Age of the oldest undelivered webhook event (0: none).",
    registry=REGISTRY,
)
RETENTION_DELETED = Counter(
    "getkey_retention_deleted", "Rows removed by the retention job, by table.",
    ["table"], registry=REGISTRY,
)

API_PREFIX = "/api/"
_SLACK_CHILDREN: dict[tuple[str, int], tuple[Any, Any]] = {}


def observe_request(route: str, status: int, kind: str | None, seconds: float) -> None:
    """One HTTP request at the edge (or one Socket Mode request, route "")."""
    if kind:
        # labels() checks, locks and looks up on every call; the children it returns stay
        # (nothing removes them), so each (kind, status) pair's are looked up once.
        children = _SLACK_CHILDREN.get((kind, status))
        if children is None:
            children = (SLACK_REQUESTS.labels(kind, str(status)), ACK_SECONDS.labels(kind))
            if len(_SLACK_CHILDREN) < 1000:  # closed sets; the bound is only a backstop
                _SLACK_CHILDREN[(kind, status)] = children
        children[0].inc()
        children[1].observe(seconds)
    elif route.startswith(API_PREFIX):
        API_REQUESTS.labels(str(status)).inc()


def observe_verification(platform: str, outcome: str, seconds: float) -> None:
    VERIFICATIONS.labels(platform, outcome).inc()
    VERIFY_SECONDS.labels(platform).observe(seconds)


# The sweep's outcomes of one due reminder → the label counted (others are not counted).
_REMINDER_OUTCOMES = {"down": "deferred", "late": "deferred", "deferred": "deferred",
                      "dropped": "dropped", "renewed": "renewed"}


def reminder(outcome: object) -> None:
    """One due reminder's outcome in a sweep: a Sent (sent) or the sweep's outcome word."""
    label = _REMINDER_OUTCOMES.get(outcome) if isinstance(outcome, str) else "sent"
    if label:
        REMINDERS.labels(label).inc()


def slack_rate_limited() -> None:
    SLACK_RATE_LIMITED.inc()


def slack_retry(reason: str) -> None:
    """`reason`: rate_limited, server_error or connection."""
    SLACK_RETRIES.labels(reason).inc()


def backlog(outbox: tuple[int, float], webhooks: tuple[int, float]) -> None:
    """(count, age of the oldest in seconds) of each queue, as the store reports them."""
    OUTBOX_BACKLOG.set(outbox[0])
    OUTBOX_AGE.set(outbox[1])
    WEBHOOK_BACKLOG.set(webhooks[0])
    WEBHOOK_AGE.set(webhooks[1])


def retention_deleted(counts: dict[str, int]) -> None:
    for table, count in counts.items():
        if count:
            RETENTION_DELETED.labels(table).inc(count)
