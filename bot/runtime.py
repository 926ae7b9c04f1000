"""Everything a listener, the background jobs and the CLI need, built once per process from
the settings and passed in explicitly (tests build one against local servers and a temporary
database). Nothing here decides anything: it wires the pieces that do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.clock import utcnow
from bot.jobs.handback import Handback
from bot.jobs.interrupted import tell_interrupted
from bot.jobs.outbox import OutboxSender
from bot.jobs.recheck import Recheck
from bot.jobs.relay import OwnerRelay
from bot.jobs.retention import Retention
from bot.jobs.sweep import Sweep
from bot.jobs.webhooks import WebhookSender
from bot.services.admins import Admins
from bot.services.credentials import CredentialService
from bot.services.ending import Ending
from bot.services.links import LinkService
from bot.services.requests import Limits, RequestService
from bot.settings import Settings
from bot.slack.client import SlackClients
from bot.slack.directory import SlackDirectory
from bot.slack.messenger import Messenger
from bot.slack.ui.admin import admin_copy
from bot.slack.ui.owed import owed_message
from bot.slack.ui.reminders import reminder_message
from bot.store import Keyring, Store, make_engine
from bot.workers import Workers
from flows.http import PlatformHttp

log = logging.getLogger(__name__)

# In-flight verifications get this long to finish after SIGTERM before the process exits.
DRAIN_SECONDS = 12.0


@dataclass
class Runtime:
    settings: Settings
    store: Store
    http: PlatformHttp
    clients: SlackClients
    workers: Workers
    credentials: CredentialService
    messenger: Messenger
    sweep: Sweep
    recheck: Recheck
    outbox: OutboxSender
    webhooks: WebhookSender
    requests: RequestService
    admins: Admins
    links: LinkService
    handback: Handback
    clock: Callable[[], datetime] = utcnow
    _scheduler: Any = field(default=None, repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        http: PlatformHttp | None = None,
        clock: Callable[[], datetime] = utcnow,
        user_gap: float | None = None,
    ) -> Runtime:
        """Open the database and the keyring. Raises bot.store.KeyringError for a bad
        GETKEY_ENCRYPTION_KEYS (the caller turns it into one line)."""
        store = open_store(settings, clock)
        http = http or PlatformHttp(environ=settings.platform_env)
        threads = settings.getkey_listener_threads
        workers = Workers(slow_threads=threads, per_platform=max(1, threads // 2))
        workers.on_quiet = store.release_idle_connections
        clients = _slack_clients(settings, store, workers)
        credentials = CredentialService(
            store, http, clock=clock, platform_env=settings.platform_env
        )
        messenger = Messenger(
            clients.for_team, **({} if user_gap is None else {"user_gap": user_gap})
        )
        admins = Admins(store, SlackDirectory(clients.for_team), workers.quick)
        relay = OwnerRelay(messenger, admins, admin_copy)
        handback = Handback(store, Ending(credentials), messenger, workers, relay.send)
        return cls(
            settings=settings,
            store=store,
            http=http,
            clients=clients,
            workers=workers,
            credentials=credentials,
            messenger=messenger,
            sweep=Sweep(
                store, messenger, credentials, workers, reminder_message, clock=clock,
                deliver=relay.send, end=handback.at_end_date,
            ),
            recheck=Recheck(store, credentials, workers, clock=clock),
            outbox=OutboxSender(
                store, messenger, workers, owed_message, clock=clock, deliver=relay.owed
            ),
            webhooks=WebhookSender(
                store, workers, clock=clock,
                allow_private=settings.getkey_webhook_allow_private,
            ),
            requests=RequestService(store, credentials, Limits.of(settings)),
            admins=admins,
            links=LinkService(
                store, credentials, public_url=settings.getkey_public_url,
                expire_days=settings.getkey_link_expire_days,
                max_open=settings.getkey_max_open_requests, clock=clock,
            ),
            handback=handback,
            clock=clock,
        )

    # -- health -------------------------------------------------------------------------------
    async def health(self) -> tuple[bool, dict[str, Any]]:
        """For /healthz: the database answers and takes a write, and the keyring can decrypt
        what is stored (bot.store.health)."""
        report = await self.workers.quick(self.store.health)
        details: dict[str, Any] = {
            "database": report.database,
            "writable": report.writable,
            "keyring": report.keyring,
        }
        if report.problems:
            details["problem"] = "; ".join(report.problems)
        return report.ok, details

    async def ready(self) -> dict[str, Any]:
        """For /readyz: read-only checks on their own thread (never queued behind the workers)."""
        return await asyncio.to_thread(self.store.readiness)

    async def refresh_metrics(self) -> None:
        """Before a /metrics scrape: the outbox and webhook backlog from the database."""
        from bot import metrics

        backlog = await asyncio.to_thread(self.store.backlog)
        metrics.backlog(backlog["outbox"], backlog["webhooks"])

    # -- background work ----------------------------------------------------------------------
    async def start_background(self) -> None:
        from bot.jobs.scheduler import start_scheduler

        await self.workers.quick(self.store.ensure_canary)
        if self.store.engine.dialect.name == "sqlite":
            await self._recover_orphans()
        self._scheduler = start_scheduler(
            sweep=self.sweep.run,
            recheck=self._recheck_then_send,
            outbox=self.outbox.drain,
            interrupted=lambda: tell_interrupted(
                self.store,
                self.clients,
                self.workers,
                older_than=timedelta(seconds=self.settings.getkey_interrupted_after_seconds),
            ),
            # Only OAuth installs can be uninstalled, so only they have anything to purge.
            purge=self.purge_uninstalled if self.settings.oauth else None,
            every=self.settings.getkey_sweep_seconds,
            webhooks=self.webhooks.tick,
            requests=self.tick_requests,
            retention=Retention(self.store, self.settings, self.workers.quick).run,
        )

    async def _recover_orphans(self) -> None:
        """SQLite means one instance: whatever was in flight when this process started was
        orphaned by a process that died. Its people are told now, not once the rows are old
        enough for the minute job: interrupted verifications get "please try again", claimed
        messages are sent by the first outbox drain. (Several instances on PostgreSQL cannot
        know this and keep the age-based recovery.)"""
        started = self.clock()
        messages, verifications = await self.workers.quick(self.store.recover_in_flight, started)
        if messages or verifications:
            log.warning("recovering work a stopped process left",
                        extra={"messages": messages, "verifications": verifications})

        async def tell_now() -> None:
            await tell_interrupted(self.store, self.clients, self.workers,
                                   older_than=timedelta(0), now=started)
            await self.outbox.drain()

        self.workers.track(asyncio.ensure_future(tell_now()))

    async def tick_requests(self) -> tuple[int, int]:
        """Nudge the open requests that are due (once each), expire those past their time
        (request.expired goes to the webhooks), then send what that owes people. Returns
        (nudged, expired)."""
        nudged, expired = await self.workers.quick(self.requests.tick)
        if nudged or expired:
            log.info("requests ticked", extra={"nudged": len(nudged), "expired": len(expired)})
            await self.outbox.drain()
        return len(nudged), len(expired)

    async def purge_uninstalled(self) -> int:
        """Credentials of workspaces uninstalled longer than the retention period go."""
        return await self.workers.quick(
            self.store.purge_uninstalled, self.settings.getkey_retention_days_after_uninstall
        )

    async def _recheck_then_send(self) -> None:
        if await self.recheck.run():
            await self.outbox.drain()

    async def shutdown(self) -> None:
        """Stop ticking, let in-flight verifications finish, send what they owe."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        left = await self.workers.drain(DRAIN_SECONDS)
        if left:
            log.warning("shutdown left work unfinished", extra={"count": left})
        try:
            await asyncio.wait_for(self.outbox.drain(), 3.0)
        except Exception as exc:
            log.warning("outbox not drained at shutdown", extra={"error": type(exc).__name__})
        await self.clients.close()

    def close(self) -> None:
        self.workers.close()
        self.http.close()
        self.store.engine.dispose()


def open_store(settings: Settings, clock: Callable[[], datetime]) -> Store:
    keyring = Keyring.from_env(settings.secret("getkey_encryption_keys") or None)
    return Store(
        make_engine(settings.database_url),
        keyring,
        clock=clock,
        rotation_days_override=settings.getkey_rotation_days,
    )


def _slack_clients(settings: Settings, store: Store, workers: Workers) -> SlackClients:
    """One bot token from the settings, or (OAuth) each workspace's from the store."""
    clients = SlackClients(settings.slack_api_url, settings.secret("slack_bot_token") or None)
    if settings.oauth:
        from bot.slack.oauth import WorkspaceTokens, token_rotator

        # The rotator's client only calls oauth.v2.access (no token of its own).
        rotator = token_rotator(settings, clients.client(""))
        clients.tokens = WorkspaceTokens(store, workers.quick, rotator).bot_token
    return clients
