"""Everything a listener needs, built once per process and passed in explicitly.

Listeners take a Services instead of reaching for globals so tests can run the real app against
local servers (Slack stand-in, platform servers, a temporary database) in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.settings import Settings
from flows.http import PlatformHttp

if TYPE_CHECKING:
    from bot.store.repository import Store


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_web_client(settings: Settings) -> WebClient:
    client = WebClient(
        token=settings.secret("slack_bot_token") or None,
        base_url=settings.slack_api_url,
        timeout=10,
    )
    # 429s are retried after Retry-After; the ack path never calls the Web API before acking.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


@dataclass
class Services:
    settings: Settings
    store: Store
    http: PlatformHttp
    client: WebClient
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        http: PlatformHttp | None = None,
        client: WebClient | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> Services:
        """Open the database and the keyring. Raises bot.store.crypto.KeyringError for a bad
        GETKEY_ENCRYPTION_KEYS (the caller turns it into one line)."""
        from bot.store.crypto import Keyring
        from bot.store.db import make_engine
        from bot.store.repository import Store

        keyring = Keyring.from_env(settings.secret("getkey_encryption_keys") or None)
        engine = make_engine(settings.database_url)
        store = Store(
            engine,
            keyring,
            clock=clock,
            rotation_days_override=settings.getkey_rotation_days,
        )
        return cls(
            settings=settings,
            store=store,
            http=http or PlatformHttp(),
            client=client or make_web_client(settings),
            clock=clock,
        )

    def close(self) -> None:
        self.http.close()
        engine = getattr(self.store, "engine", None)
        dispose = getattr(engine, "dispose", None)
        if callable(dispose):
            dispose()
