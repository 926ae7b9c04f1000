"""Install by OAuth in any number of workspaces: slack_sdk's installation-store and state-store
interfaces over our database (tokens encrypted, bot.store.installations), Bolt's OAuth flow
served as two bot.http.edge routes, and the per-workspace bot token for work done outside requests
(refreshed first when Slack token rotation is on).

Nothing here talks OAuth itself: Bolt's AsyncOAuthFlow runs the exchange (oauth.v2.access),
Bolt's authorize middleware picks each request's token, slack_sdk's AsyncTokenRotator refreshes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# What getkey asks for when a workspace installs it (manifest.json lists the same).
BOT_SCOPES = ("commands", "chat:write", "im:write", "users:read", "usergroups:read")
STATE_SECONDS = 600
# Tokens are refreshed this long before they expire (Bolt's default too).
REFRESH_MINUTES = 120
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

# Runs blocking store work off the event loop (Runtime.workers.quick).
Run = Callable[..., Awaitable[Any]]


class DbInstallationStore(AsyncInstallationStore):
    """slack_sdk's installation store, over bot.store (tokens encrypted with the keyring)."""

    def __init__(self, store: Any, run: Run) -> None:
        self.store = store
        self.run = run

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self.run(self.store.save_installation, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        # A refreshed bot token: the installation it belongs to, with the new bot fields.
        found = await self.async_find_installation(
            enterprise_id=bot.enterprise_id, team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install,
        )
        if found is None:
            return
        fields = found.to_dict_for_copying()
        fields.update(bot_token=bot.bot_token, bot_refresh_token=bot.bot_refresh_token,
                      bot_token_expires_at=bot.bot_token_expires_at)
        await self.async_save(Installation(**fields))

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self.run(
            self.store.find_installation, enterprise_id, team_id, user_id, is_enterprise_install
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found.to_bot() if found is not None and found.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.run(self.store.delete_installations, enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.run(self.store.delete_installations, enterprise_id, team_id, user_id)


class DbStateStore(AsyncOAuthStateStore):
    """OAuth `state` values in the database: any instance can finish an install another began;
    each is valid for STATE_SECONDS and accepted once."""

    def __init__(self, store: Any, run: Run, expiration_seconds: int = STATE_SECONDS) -> None:
        self.store = store
        self.run = run
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state: str = await self.run(self.store.issue_state, self.expiration_seconds)
        return state

    async def async_consume(self, state: str) -> bool:
        consumed: bool = await self.run(self.store.consume_state, state)
        return consumed


class WorkspaceTokens:
    """The bot token of a workspace outside any request (sweep, outbox, interrupted notes),
    refreshed and saved first when it is about to expire (Slack token rotation)."""

    def __init__(self, store: Any, run: Run, rotator: AsyncTokenRotator) -> None:
        self.store = store
        self.run = run
        self.rotator = rotator
        # Refresh tokens are single-use: one refresh per workspace at a time in this process.
        self._locks: dict[str, asyncio.Lock] = {}

    async def bot_token(self, team_id: str) -> str | None:
        async with self._locks.setdefault(team_id, asyncio.Lock()):
            installation: Installation | None = await self.run(
                self.store.installation_for_team, team_id
            )
            if installation is None or not installation.bot_token:
                return None
            if installation.bot_refresh_token:
                installation = await self._refreshed(team_id, installation)
            return installation.bot_token

    async def _refreshed(self, team_id: str, installation: Installation) -> Installation:
        try:
            fresh = await self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=REFRESH_MINUTES
            )
        except SlackTokenRotationError:
            # Another instance used the refresh token first and saved what it got: read it.
            log.info("slack token refreshed elsewhere", extra={"team": team_id})
            again: Installation | None = await self.run(
                self.store.installation_for_team, team_id
            )
            return again or installation
        if fresh is None:
            return installation
        await self.run(self.store.save_installation, fresh)
        log.info("slack token refreshed", extra={"team": team_id})
        return fresh


def oauth_settings(settings: Any, store: Any, run: Run) -> AsyncOAuthSettings:
    """Bolt's OAuth settings from ours: client id/secret, scopes, our two stores."""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.secret("slack_client_secret"),
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=DbInstallationStore(store, run),
        state_store=DbStateStore(store, run),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
    )


def token_rotator(settings: Any, client: AsyncWebClient) -> AsyncTokenRotator:
    return AsyncTokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.secret("slack_client_secret"),
        client=client,
    )
