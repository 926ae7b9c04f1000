"""Reminders: the sweep that sends due reminder DMs, the daily re-verification, and the
APScheduler wiring that runs both in every process.

The database holds the truth. A sweep claims due reminders atomically (store.claim_due), sends
each as a DM, then marks it sent; when Slack fails the claim is released so the next sweep
retries, and when the process dies the claim's lease expires, so nothing is lost and, with any
number of processes, nothing is sent twice. Jobs never take arguments: APScheduler may persist
them, and a secret must never be one.

Everything here runs on the scheduler's thread (or in `getkey remind --once`), never on a
Slack request path, so it may sleep to honour Retry-After and to pace messages.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import urllib.error
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.cli import UsageError
from bot.ui import reminders as reminder_ui
from flows import catalog
from flows.base import Failure, Flow, VerifyResult

if TYPE_CHECKING:
    from bot.store.repository import CredentialInfo, DueReminder
    from flows.http import PlatformHttp

log = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 60
# How often the re-verification job looks for credentials whose daily check is due. Short, so
# the checks of a day are spread over it instead of bunched at one moment.
RECHECK_EVERY_SECONDS = 300
RECHECK_BATCH = 200
# A run stops claiming new batches after this long, well inside the interval.
RECHECK_BUDGET_SECONDS = 240.0
# Minimum gap between two re-verification calls to the same platform: far below every
# platform's documented limits, so a large backlog never looks like abuse.
PLATFORM_GAP_SECONDS = 0.5
# Slack: about one message per second per conversation.
USER_GAP_SECONDS = 1.0
# Longest Retry-After we wait for inside a sweep; longer ones leave the reminder for later.
MAX_RETRY_WAIT = 30.0
SLACK_ATTEMPTS = 3
LEASE_SECONDS = 300
CLAIM_BATCH = 100
# A "no longer works" DM that Slack could not take is tried again by a re-check this soon.
FAILING_DM_RETRY = timedelta(minutes=10)
# Errors that will not go away by retrying: the reminder is dropped (logged) instead of being
# retried every minute forever.
UNDELIVERABLE = frozenset(
    {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", "users_not_found"}
)
# Verification failures that say nothing about the key (our network, their outage, a busy
# API): the credential is checked again later instead of being called broken.
INCONCLUSIVE = frozenset({Failure.RATE_LIMITED, Failure.UNREACHABLE})
# A daily re-check renews an R-Series connection whose access token is this close to expiry
# (normally its expiry reminder renews it on time; this catches a broken chain).
RENEW_AHEAD = timedelta(minutes=10)


# -- errors while talking to Slack --------------------------------------------------------------
class SlackDown(Exception):
    """Slack is unreachable or failing (5xx, connection error): stop sending this sweep."""


class Deferred(Exception):
    """This message could not be sent now (rate limited beyond our patience, ok:false)."""


class Undeliverable(Exception):
    """This message can never be delivered (the user is gone)."""


@dataclass(frozen=True)
class Sent:
    """One reminder that went out: what `getkey remind --once` prints."""

    platform: str
    store: str
    masked: str
    stage: str
    owner: str

    def line(self) -> str:
        return f"{self.platform}\t{self.store}\t{self.masked}\t{self.stage}\t{self.owner}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class Slack:
    """The few Web API calls reminders need, with 429 retries, a DM channel cache and
    per-user pacing. One per process (shared by sweep and re-verification)."""

    def __init__(
        self,
        client: WebClient | Callable[[str], WebClient],
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        user_gap: float = USER_GAP_SECONDS,
        max_retry_wait: float = MAX_RETRY_WAIT,
    ) -> None:
        # A callable maps a workspace (team id) to its client, for multi-workspace installs.
        self._client_for = client if callable(client) and not isinstance(client, WebClient) else (
            lambda _team: client  # type: ignore[return-value]
        )
        self.sleep = sleep
        self.monotonic = monotonic
        self.user_gap = user_gap
        self.max_retry_wait = max_retry_wait
        self._lock = threading.Lock()
        self._last_sent: dict[str, float] = {}
        self._channels: OrderedDict[str, str] = OrderedDict()

    # -- low level ---------------------------------------------------------------------------
    def call(
        self,
        team_id: str,
        method: str,
        *,
        json: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Web API call. 429s are retried here after Retry-After (this thread may sleep);
        everything else becomes SlackDown / Deferred / Undeliverable."""
        client = self._client_for(team_id)
        for attempt in range(1, SLACK_ATTEMPTS + 1):
            try:
                # Form encoding for reads: Slack accepts JSON bodies only on write methods.
                response = client.api_call(method, json=json, data=form)
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as exc:
                status = exc.response.status_code
                error = str(exc.response.get("error") or f"HTTP {status}")
                if status == 429:
                    wait = _retry_after(exc.response.headers)
                    if wait > self.max_retry_wait or attempt == SLACK_ATTEMPTS:
                        raise Deferred(f"{method}: rate limited for {wait:g}s") from None
                    log.info("slack rate limited", extra={"method": method, "wait": wait})
                    self.sleep(wait)
                    continue
                if status >= 500:
                    raise SlackDown(f"{method}: {error}") from None
                if error in UNDELIVERABLE:
                    raise Undeliverable(f"{method}: {error}") from None
                raise Deferred(f"{method}: {error}") from None
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                # slack_sdk already retried connection errors with its default handler.
                raise SlackDown(f"{method}: {type(exc).__name__}") from None
        raise Deferred(f"{method}: gave up")  # pragma: no cover - loop always returns/raises

    # -- helpers -----------------------------------------------------------------------------
    def dm_channel(self, team_id: str, user_id: str) -> str:
        key = f"{team_id}:{user_id}"
        with self._lock:
            channel = self._channels.get(key)
        if channel:
            return channel
        data = self.call(team_id, "conversations.open", form={"users": user_id})
        channel = str((data.get("channel") or {}).get("id") or "")
        if not channel:
            raise Deferred("conversations.open: no channel in the answer")
        with self._lock:
            self._channels[key] = channel
            while len(self._channels) > 10_000:
                self._channels.popitem(last=False)
        return channel

    def pace(self, team_id: str, user_id: str) -> None:
        """Wait until this person's last message is at least `user_gap` seconds old."""
        key = f"{team_id}:{user_id}"
        with self._lock:
            last = self._last_sent.get(key)
        if last is not None:
            wait = last + self.user_gap - self.monotonic()
            if wait > 0:
                self.sleep(wait)
        with self._lock:
            self._last_sent[key] = self.monotonic()
            if len(self._last_sent) > 10_000:
                cutoff = self.monotonic() - self.user_gap
                for k in [k for k, t in self._last_sent.items() if t < cutoff]:
                    del self._last_sent[k]

    def send_dm(self, info: CredentialInfo, stage: str, now: datetime) -> None:
        """The reminder DM for one credential. Raises SlackDown / Deferred / Undeliverable."""
        channel = self.dm_channel(info.team_id, info.user_id)
        message = reminder_ui.reminder_message(info, stage, now)
        self.pace(info.team_id, info.user_id)
        try:
            self.call(info.team_id, "chat.postMessage", json={"channel": channel, **message})
        except Deferred:
            # The cached DM channel may be the problem (e.g. channel_not_found): ask again
            # next time.
            with self._lock:
                self._channels.pop(f"{info.team_id}:{info.user_id}", None)
            raise


def _retry_after(headers: Mapping[str, Any]) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(str(raw).strip()))
            except ValueError:
                break
    return 1.0



def _round_robin(items: Iterable[DueReminder]) -> list[DueReminder]:
    """Interleave owners so one person's pile does not hold up everyone else's reminders
    while pacing waits."""
    queues: OrderedDict[str, list[DueReminder]] = OrderedDict()
    for item in items:
        queues.setdefault(f"{item.credential.team_id}:{item.credential.user_id}", []).append(item)
    ordered: list[DueReminder] = []
    while queues:
        for key in list(queues):
            ordered.append(queues[key].pop(0))
            if not queues[key]:
                del queues[key]
    return ordered


class Reminders:
    """The sweep and the re-verification, bound to one store and one Slack."""

    def __init__(
        self,
        store: Any,
        slack: Slack,
        *,
        http: PlatformHttp | None = None,
        clock: Callable[[], datetime] = _utcnow,
        settings: Any = None,
        environ: Mapping[str, str] | None = None,
        lease_seconds: int = LEASE_SECONDS,
        batch: int = CLAIM_BATCH,
        platform_gap: float = PLATFORM_GAP_SECONDS,
    ) -> None:
        self.store = store
        self.slack = slack
        self.http = http
        self.clock = clock
        self.settings = settings
        self.environ = environ if environ is not None else os.environ
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.platform_gap = platform_gap
        self._platform_lock = threading.Lock()
        self._platform_last: dict[str, float] = {}

    # -- the sweep ---------------------------------------------------------------------------
    def sweep(self, now: datetime | None = None) -> list[Sent]:
        """Claim what is due at `now`, send it, mark it sent. Returns the DMs that went out."""
        now = _aware(now or self.clock())
        sent: list[Sent] = []
        while True:
            due = self.store.claim_due(now, limit=self.batch, lease_seconds=self.lease_seconds)
            if not due:
                return sent
            claimed = self.slack.monotonic()
            queue = _round_robin(due)
            held_back = False
            for index, item in enumerate(queue):
                # Past half the lease another process may take a claim over: hand back what is
                # left rather than risk a duplicate.
                if self.slack.monotonic() - claimed > self.lease_seconds / 2:
                    self._release_all(queue[index:])
                    return sent
                outcome = self._deliver(item, now)
                if isinstance(outcome, Sent):
                    sent.append(outcome)
                elif outcome == "down":
                    # Slack is failing: everything else stays due for the next sweep.
                    self._release_all(queue[index + 1 :])
                    return sent
                elif outcome == "deferred":
                    held_back = True
            # A full batch means there may be more; but what was just given back must wait
            # for the next sweep, or this loop would claim it again at once.
            if held_back or len(due) < self.batch:
                return sent

    def _release_all(self, items: Iterable[DueReminder]) -> None:
        for item in items:
            self.store.release(item.reminder_id)

    def _deliver(self, item: DueReminder, now: datetime) -> Sent | str:
        info = item.credential
        try:
            if item.kind == "expiry" and self._renewable(info):
                return self._renew_due(item, now)
            self.slack.send_dm(info, item.stage, now)
        except SlackDown as exc:
            log.warning("slack unavailable; reminders left due", extra={"error": str(exc)})
            self.store.release(item.reminder_id)
            return "down"
        except Deferred as exc:
            log.warning(
                "reminder not sent; it stays due",
                extra={"reminder": item.reminder_id, "error": str(exc)},
            )
            self.store.release(item.reminder_id)
            return "deferred"
        except Undeliverable as exc:
            log.warning(
                "reminder dropped: the owner cannot receive DMs",
                extra={"reminder": item.reminder_id, "error": str(exc)},
            )
            self.store.mark_sent(item.reminder_id)
            return "dropped"
        except Exception as exc:
            # One bad row must not stop the sweep; its claim goes back for the next one.
            log.error(
                "reminder failed", extra={"reminder": item.reminder_id, "error": type(exc).__name__}
            )
            self.store.release(item.reminder_id)
            return "deferred"
        self.store.mark_sent(item.reminder_id)
        log.info(
            "reminder sent",
            extra={"reminder": item.reminder_id, "stage": item.stage, "platform": info.platform},
        )
        return _sent(info, item.stage)

    # -- re-verification ---------------------------------------------------------------------
    def recheck(
        self,
        now: datetime | None = None,
        *,
        limit: int = RECHECK_BATCH,
        budget: float = RECHECK_BUDGET_SECONDS,
    ) -> list[Sent]:
        """Re-verify the credentials whose daily check is due (the store hands each to one
        process), batch after batch for up to `budget` seconds. Returns the "no longer works"
        DMs sent."""
        now = _aware(now or self.clock())
        told: list[Sent] = []
        started = self.slack.monotonic()
        while self.slack.monotonic() - started < budget:
            batch = self.store.due_for_recheck(now, limit)
            for info in batch:
                try:
                    outcome = self._recheck_one(info, now)
                except SlackDown:
                    log.warning("slack unavailable during recheck", extra={"credential": info.id})
                    continue
                except Exception as exc:
                    # Left claimed: the store hands it out again after its lease.
                    log.error(
                        "recheck failed", extra={"credential": info.id, "error": type(exc).__name__}
                    )
                    continue
                if outcome is not None:
                    told.append(outcome)
            if len(batch) < limit:
                break
        return told

    def _recheck_one(self, info: CredentialInfo, now: datetime) -> Sent | None:
        flow = catalog.get(info.platform)
        if flow is None:
            log.warning("recheck skipped: unknown platform", extra={"platform": info.platform})
            return None
        if not flow.verifiable:
            return None
        expired = info.expires_at is not None and _aware(info.expires_at) <= now
        if self._renewable(info) and (
            info.expires_at is None or _aware(info.expires_at) - now <= RENEW_AHEAD
        ):
            renewed = self._renew(flow, info, now)
            if renewed is not _NOT_RENEWABLE:
                return renewed
        if expired:
            # Expired keys are the expiry reminders' business; saying "no longer works"
            # would only repeat them.
            return None
        values = {**info.identifiers, **self.store.secret_values(info.id)}
        self._pace_platform(info.platform)
        result: VerifyResult = flow.run_verify(values, self._http())
        # The store treats rate limits and outages as inconclusive (checked again sooner).
        updated = self.store.record_check(info.id, result)
        if result.ok or result.failure in INCONCLUSIVE:
            return None
        return self._tell_once(updated, reminder_ui.FAILING, now)

    def _tell_once(self, info: CredentialInfo, stage: str, now: datetime) -> Sent | None:
        """The "no longer works" DM, once per failure episode (the store keeps the flag)."""
        if not self.store.mark_failing_notified(info.id):
            return None
        try:
            self.slack.send_dm(info, stage, now)
        except Deferred as exc:
            # Slack is busy: the next re-check (soon) tries the DM again.
            log.warning("failure DM deferred", extra={"credential": info.id, "error": str(exc)})
            self.store.clear_failing_notified(info.id, retry_at=now + FAILING_DM_RETRY)
            return None
        except SlackDown:
            self.store.clear_failing_notified(info.id, retry_at=now + FAILING_DM_RETRY)
            raise
        except Undeliverable as exc:
            log.warning("failure DM not sent", extra={"credential": info.id, "error": str(exc)})
            return None
        return _sent(info, stage)

    # -- renewal (platforms whose flow can renew a credential without its owner) -----------
    def _renewable(self, info: CredentialInfo) -> bool:
        flow = catalog.get(info.platform)
        return flow is not None and flow.can_renew(self.environ)

    def _renew_due(self, item: DueReminder, now: datetime) -> Sent | str:
        """A renewable credential reaches its expiry stage: renew it instead of reminding.
        Only a failed renewal (or one that is not possible) reaches the person."""
        flow = catalog.get(item.credential.platform)
        assert flow is not None  # _renewable checked it
        outcome = self._renew(flow, item.credential, now)
        if outcome is _NOT_RENEWABLE:
            self.slack.send_dm(item.credential, item.stage, now)
            self.store.mark_sent(item.reminder_id)
            return _sent(item.credential, item.stage)
        if outcome is _INCONCLUSIVE_RENEWAL:
            self.store.release(item.reminder_id)
            return "deferred"
        # Done, or refused because of the operator's client credentials: either way this
        # reminder is finished (in the latter case the daily check tries again, instead of
        # every sweep hammering the token endpoint).
        self.store.mark_sent(item.reminder_id)
        return outcome if isinstance(outcome, Sent) else "renewed"

    def _renew(self, flow: Flow, info: CredentialInfo, now: datetime) -> Any:
        """Renew, store the new secrets atomically, verify with them. Returns a Sent when the
        person had to be told, _INCONCLUSIVE_RENEWAL to try later, _NOT_RENEWABLE when these
        values cannot be renewed, else None."""
        values = {**info.identifiers, **self.store.secret_values(info.id)}
        self._pace_platform(info.platform)
        outcome = flow.renew(values, self._http(), self.environ)
        if outcome is None:
            return _NOT_RENEWABLE
        if isinstance(outcome, VerifyResult):
            if outcome.failure in INCONCLUSIVE:
                return _INCONCLUSIVE_RENEWAL
            if outcome.field is None and outcome.failure == Failure.BAD_CREDENTIAL:
                # The app's own client credentials were refused: the operator's problem, not
                # the owner's, so nothing is marked failing and nobody is DMed.
                log.error(
                    "renewal refused the app's client credentials",
                    extra={"credential": info.id, "platform": flow.id, "detail": outcome.detail},
                )
                return None
            updated = self.store.record_check(info.id, outcome)
            return self._tell_once(updated, reminder_ui.REFRESH_FAILED, now)
        secret_keys = {f.key for f in flow.secret_fields}
        # Refresh tokens are often single-use: every new secret is stored, in one
        # transaction, before anything uses them.
        self.store.replace_secret(
            info.id,
            {k: v for k, v in outcome.values.items() if k in secret_keys},
            actor="getkey:refresh",
        )
        log.info("connection renewed", extra={"credential": info.id, "platform": flow.id})
        fresh = {**values, **outcome.values}
        self._pace_platform(info.platform)
        result: VerifyResult = flow.run_verify(fresh, self._http())
        if not result.ok and result.failure in INCONCLUSIVE:
            # The token endpoint just vouched for the connection; record the new expiry so
            # the next renewal is planned.
            result = VerifyResult(
                ok=True,
                detail="Renewed; the account check will be repeated later.",
                expires_at=outcome.expires_at,
            )
        updated = self.store.record_check(info.id, result)
        if result.ok:
            return None
        return self._tell_once(updated, reminder_ui.FAILING, now)

    # -- pacing and plumbing -------------------------------------------------------------------
    def _pace_platform(self, platform: str) -> None:
        with self._platform_lock:
            last = self._platform_last.get(platform)
            wait = 0.0 if last is None else last + self.platform_gap - self.slack.monotonic()
            self._platform_last[platform] = self.slack.monotonic() + max(0.0, wait)
        if wait > 0:
            self.slack.sleep(wait)

    def _http(self) -> PlatformHttp:
        if self.http is None:
            from flows.http import PlatformHttp

            self.http = PlatformHttp()
        return self.http

    # -- scheduler entry points (no arguments, ever) -----------------------------------------
    def sweep_job(self) -> None:
        try:
            sent = self.sweep()
            if sent:
                log.info("sweep sent reminders", extra={"count": len(sent)})
        except Exception as exc:
            log.error("sweep failed; the next one retries", extra={"error": type(exc).__name__})

    def recheck_job(self) -> None:
        try:
            self.recheck()
        except Exception as exc:
            log.error("re-verification failed", extra={"error": type(exc).__name__})


_INCONCLUSIVE_RENEWAL = object()
_NOT_RENEWABLE = object()


def _sent(info: CredentialInfo, stage: str) -> Sent:
    return Sent(
        platform=info.platform,
        store=info.store_name or info.identity,
        masked=info.masked,
        stage=stage,
        owner=info.user_id,
    )


# -- wiring ---------------------------------------------------------------------------------
def reminder_client(client: WebClient) -> WebClient:
    """A client of our own for background sends: same token and URL, but without slack_sdk's
    RateLimitErrorRetryHandler, which would sleep for any Retry-After however long; Slack.call
    retries 429s itself, with a ceiling."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        headers=dict(client.headers),
        retry_handlers=[
            h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
        ],
    )


def _sweep_seconds(services: Any) -> int:
    value = getattr(getattr(services, "settings", None), "getkey_sweep_seconds", None)
    if value is None:
        raw = os.environ.get("GETKEY_SWEEP_SECONDS", "")
        value = int(raw) if raw.strip().isdigit() else DEFAULT_SWEEP_SECONDS
    return max(1, int(value))


def reminders_for(services: Any, **overrides: Any) -> Reminders:
    """The reminder machinery for a process's Services."""
    slack = overrides.pop("slack", None) or Slack(reminder_client(services.client))
    return Reminders(
        services.store,
        slack,
        http=services.http,
        clock=services.clock,
        settings=services.settings,
        **overrides,
    )


class ReminderScheduler(BackgroundScheduler):
    """APScheduler's background scheduler; calling it stops it (bot.server calls the value
    start_scheduler returns when the process shuts down)."""

    def __call__(self) -> None:
        if self.running:
            self.shutdown(wait=False)


def start_scheduler(services: Any) -> ReminderScheduler:
    """One sweep job and one re-verification job in this process. Any number of processes
    may run them: the database decides who sends what."""
    reminders = reminders_for(services)
    every = _sweep_seconds(services)
    scheduler = ReminderScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": every},
    )
    # Bound methods and no args: nothing about a credential is ever handed to APScheduler.
    scheduler.add_job(
        reminders.sweep_job,
        "interval",
        seconds=every,
        id="getkey-reminder-sweep",
        next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        # Replicas started together drift apart instead of claiming in lockstep.
        jitter=max(1, every // 10),
    )
    scheduler.add_job(
        reminders.recheck_job,
        "interval",
        seconds=RECHECK_EVERY_SECONDS,
        id="getkey-recheck",
        next_run_time=datetime.now(UTC) + timedelta(seconds=30),
        jitter=30,
    )
    scheduler.start()
    log.info("reminder scheduler started", extra={"sweep_seconds": every})
    return scheduler


# -- `getkey remind --once [--now …]` ----------------------------------------------------------
def parse_now(text: str | None) -> datetime | None:
    """--now as an aware UTC datetime; a naive time is taken as UTC."""
    if text is None:
        return None
    raw = text.strip()
    if raw[-1:] in ("Z", "z"):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO-8601 time; use e.g. 2030-06-01T09:00:00Z"
        ) from None
    return _aware(when).astimezone(UTC)


def _quiet_logging(level: str) -> None:
    """Problems (a Slack outage, a dropped reminder) as redacted JSON lines on stderr; the
    per-reminder INFO lines would only repeat stdout. Left alone when the process already has
    logging set up (tests, an embedding program)."""
    from bot.logs import configure_logging, install_redaction

    install_redaction()
    if not logging.getLogger().handlers:
        configure_logging(level if level in ("ERROR", "CRITICAL") else "WARNING")


def cmd_remind(now: str | None) -> int:
    """Run one sweep as if it were `now`; print one line per reminder sent."""
    when = parse_now(now)
    from bot.services import Services
    from bot.settings import SettingsError, load_settings

    try:
        # No Slack requests are received here, so no signing secret is needed.
        settings = load_settings(http_mode=False)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    _quiet_logging(settings.log_level)
    from bot.store.crypto import KeyringError

    try:
        services = Services.from_settings(settings)
    except KeyringError as exc:
        raise UsageError(f"GETKEY_ENCRYPTION_KEYS: {str(exc).rstrip('.')}.") from None
    try:
        sent = reminders_for(services).sweep(when)
    except Exception as exc:
        # The text may quote the database URL (with its password): the type only.
        raise UsageError(
            f"the sweep failed ({type(exc).__name__}); check DATABASE_URL and run "
            "`getkey db upgrade`"
        ) from None
    finally:
        services.close()
    for item in sent:
        print(item.line())
    moment = f" as of {when.isoformat()}" if when else ""
    print(f"{len(sent)} reminder{'' if len(sent) == 1 else 's'} sent{moment}", file=sys.stderr)
    return 0
