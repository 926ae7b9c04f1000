"""Reminders of owners who left go to the workspace admins.

A credential whose owner was deactivated (user_change) is marked owner-gone; so is one whose DM
fails because the account is inactive. From then on its reminders (and "no longer works"
notices) go to the workspace's admins, with a "Take over" button, until one of them takes it
over: a credential never expires with nobody told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.services.admins import OWNER_GONE_ERRORS, Admins, DirectoryError
from bot.slack.messenger import Deferred, Messenger, SlackDown, Undeliverable
from bot.vocabulary import OutboxKind

if TYPE_CHECKING:
    from bot.store import CredentialInfo

log = logging.getLogger(__name__)

# Outbox kinds worth an admin's attention when the owner is gone (a "stored" confirmation is not).
FOR_ADMINS = frozenset({OutboxKind.FAILING, OutboxKind.RENEW_FAILED})

# (credential, the owner's message) → the admins' copy (with its Take over button).
AdminCopy = Callable[["CredentialInfo", "dict[str, Any]"], "dict[str, Any]"]


class OwnerRelay:
    def __init__(self, messenger: Messenger, admins: Admins, admin_copy: AdminCopy) -> None:
        self.messenger = messenger
        self.admins = admins
        self.admin_copy = admin_copy

    async def send(
        self, info: CredentialInfo, message: dict[str, Any], *, reroute: bool = True
    ) -> None:
        """The owner's message to the owner, or to the admins when the owner is gone (or turns
        out to be gone now). Raises what Messenger.send raises."""
        if info.owner_gone_at is None:
            try:
                await self.messenger.send(info.team_id, info.user_id, message)
                return
            except Undeliverable as exc:
                if exc.error not in OWNER_GONE_ERRORS:
                    raise
                await self.admins.owner_gone(
                    info.team_id, info.user_id, info.enterprise_id, reason=f"DM failed: {exc.error}"
                )
                if not reroute:
                    raise
        elif not reroute:
            raise Undeliverable("the owner is gone", "owner_gone")
        await self.to_admins(info, message)

    async def to_admins(self, info: CredentialInfo, message: dict[str, Any]) -> None:
        try:
            admins = await self.admins.recipients(
                info.team_id, info.enterprise_id, besides=info.user_id
            )
        except DirectoryError as exc:
            raise Deferred(f"admins unknown: {exc}") from None
        if not admins:
            log.error("owner gone and no admin to tell", extra={"credential": info.id})
            raise Undeliverable("no admin to tell", "no_admins")
        copy = self.admin_copy(info, message)
        sent = 0
        failure: Exception | None = None
        for admin in admins:
            try:
                await self.messenger.send(info.team_id, admin, copy)
                sent += 1
            except (Undeliverable, Deferred) as exc:
                failure = exc
            except SlackDown:
                if not sent:
                    raise
                break  # some admins were told: the message counts as delivered
        if not sent:
            assert failure is not None
            raise failure
        log.info("owner gone; admins told", extra={"credential": info.id, "admins": sent})

    async def owed(self, info: CredentialInfo, kind: str, message: dict[str, Any]) -> None:
        """For the outbox: a message owed to the owner; only notices worth acting on go on to
        the admins (a "stored" confirmation to a departed owner is just dropped)."""
        await self.send(info, message, reroute=kind in FOR_ADMINS)
