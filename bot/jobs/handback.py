"""A key's job is over: whoever can revoke it gets the platform's steps, getkey forgets its
copy, the requester is told (issue 19).

At the end date (the sweep) the steps are sent before the copy is deleted: if Slack is down the
reminder stays due and nothing is lost; a deletion that then fails is tried again by the next
sweep. "Done" from a surface deletes first and shows the steps in place; only a provider who
is someone else gets them as a DM.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.services.credentials import ActionOutcome, Actor, Done, Gone
from bot.services.ending import DONE_NOTE, ENDED_NOTE, Ending
from bot.slack.messenger import Deferred, Messenger, Undeliverable
from bot.slack.ui.ending import ended_message, provider_revoke_message
from bot.slack.ui.text import slack_day
from bot.store.requests import LINK_PROVIDER
from bot.workers import Workers

if TYPE_CHECKING:
    from bot.store import CredentialInfo, Store

log = logging.getLogger(__name__)

# The owner's message, sent through the relay (the admins when the owner is gone).
ToOwner = Callable[["CredentialInfo", "dict[str, Any]"], Awaitable[None]]


def provider_of(info: CredentialInfo) -> str | None:
    """The Slack user who provided the key for its owner, if someone else did."""
    who = info.provided_by
    return who if who and who != LINK_PROVIDER and who != info.user_id else None


class Handback:
    def __init__(self, store: Store, ending: Ending, messenger: Messenger, workers: Workers,
                 to_owner: ToOwner) -> None:
        self.store = store
        self.ending = ending
        self.messenger = messenger
        self.workers = workers
        self.to_owner = to_owner

    async def contact(self, info: CredentialInfo) -> str | None:
        defaults = await self.workers.quick(
            self.store.workspace_defaults, info.team_id, info.enterprise_id
        )
        return defaults.support_contact

    async def at_end_date(self, info: CredentialInfo) -> None:
        """The sweep's end-due reminder. Raises what Messenger.send raises (before deleting)."""
        why = f"It was needed until {slack_day(info.needed_until or info.created_at)}."
        contact = await self.contact(info)
        provider = provider_of(info)
        if provider:
            await self.messenger.send(info.team_id, provider,
                                      provider_revoke_message(info, why, contact))
        else:
            await self.to_owner(info, ended_message(info, why=why, steps=True, contact=contact))
        gone = await self.workers.quick(self.ending.finish, info.id, None, ENDED_NOTE)
        log.info("key ended", extra={"credential": info.id, "deleted": isinstance(gone, Done)})
        if provider:
            await self._tell_quietly(info, ended_message(info, why=why, steps=False,
                                                         told=provider, contact=contact))

    async def done(self, credential_id: str, actor: Actor) -> ActionOutcome:
        """"Done" from a surface, by the owner: forget it now; a provider gets the steps."""
        outcome = await self.workers.quick(self.ending.finish, credential_id, actor, DONE_NOTE)
        if not isinstance(outcome, Done):
            return outcome
        info = outcome.info
        provider = provider_of(info)
        if provider:
            why = f"<@{actor.user_id}> marked the job done."
            message = provider_revoke_message(info, why, await self.contact(info))
            try:
                await self.messenger.send(info.team_id, provider, message)
            except (Deferred, Undeliverable) as exc:
                log.warning("provider not told", extra={"error": str(exc)})
        return outcome

    async def _tell_quietly(self, info: CredentialInfo, message: dict[str, Any]) -> None:
        try:
            await self.to_owner(info, message)
        except Exception as exc:  # the key is gone either way; the notice is a courtesy
            log.warning("requester not told of the end", extra={"error": type(exc).__name__})


__all__ = ["Gone", "Handback", "provider_of"]
