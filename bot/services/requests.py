"""Asking someone else for a credential, Slack-free: request, open, submit on the requester's
behalf, cancel, expire. Typed outcomes, like bot.services.credentials; the Slack side renders them.

The credential a provider submits belongs to the requester (their team, their list, their
reminders); the provider is recorded on it (`provided_by`) and in the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.services.credentials import (
    Actor,
    CredentialService,
    Done,
    Intent,
    Rejected,
    Stored,
    SubmitOutcome,
    not_offered,
    offered,
)
from bot.store.info import CredentialInfo
from bot.store.requests import RequestInfo, TooManyOpen
from bot.wording import job_words
from flows import catalog
from flows.base import Flow, Purpose

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store.repository import Store

log = logging.getLogger(__name__)


# "Send again" DMs the provider: at most once an hour per request.
RESEND_EVERY = timedelta(hours=1)


def resend_from(info: RequestInfo) -> datetime | None:
    """When "Send again" is possible again (None: now)."""
    return info.resent_at + RESEND_EVERY if info.resent_at else None


def resend_wait(info: RequestInfo) -> str:
    when = resend_from(info)
    if when is None:
        return f"This request is {info.state}: ask again with `/getkey request`."
    stamp = int(when.timestamp())
    return (
        f"You sent it again less than an hour ago: you can send it again from "
        f"<!date^{stamp}^{{time}}|{when:%H:%M} UTC>."
    )


@dataclass(frozen=True)
class Refused:
    """Nothing was changed; `reason` is the sentence to show."""

    reason: str


@dataclass(frozen=True)
class Opened:
    request: RequestInfo
    flow: Flow


@dataclass(frozen=True)
class Draft:
    """A request to make (the caller checks the provider's workspace first)."""

    provider_id: str
    platform: str
    note: str
    channel_id: str | None
    intent: Intent | None = None  # the same job as the key asked for before


@dataclass(frozen=True)
class Limits:
    max_open: int = 10
    nudge_after: timedelta = timedelta(days=2)
    expire_after: timedelta = timedelta(days=7)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_open=settings.getkey_max_open_requests,
            nudge_after=timedelta(days=settings.getkey_request_nudge_days),
            expire_after=timedelta(days=settings.getkey_request_expire_days),
        )


def fixed_of(info: RequestInfo) -> Intent | None:
    """What the request fixed for its provider: the purpose and the end date (None: no end)
    together. None for a request made before requests carried them: the provider chooses."""
    if info.purpose is None:
        return None
    return Intent(Purpose.parse(info.purpose, Purpose.READ), info.needed_until)


def fixed_words(info: RequestInfo) -> str:
    """What the key is for and until when, as the request fixed it ('' for an old request)."""
    fixed = fixed_of(info)
    return job_words(fixed.purpose, fixed.needed_until) if fixed else ""


def askable(store: Store, platform: str, actor: Actor) -> Flow | Refused:
    """The platform a request (in Slack or by link) may ask a key of: one getkey verifies,
    offered in the requester's workspace."""
    flow = catalog.get(platform)
    if flow is None or not (flow.verifiable and flow.fields):
        known = ", ".join(f.id for f in catalog.suggest(platform)) if platform else ""
        hint = f" Did you mean {known}?" if known else " `/getkey help` lists them."
        return Refused(f"getkey cannot ask for a key of “{platform[:40]}”.{hint}")
    if not offered(store, flow, actor.team_id, actor.enterprise_id):
        return Refused(not_offered(flow))
    return flow


def too_many_open(max_open: int) -> Refused:
    return Refused(
        f"You already have {max_open} open requests: cancel one (`/getkey list`) "
        "or wait for answers before asking again."
    )


def fixed_intent(info: RequestInfo, chosen: Intent | None) -> dict[str, object]:
    """submit() keywords: the request's purpose and end date, else the provider's choice."""
    intent = fixed_of(info) or chosen or Intent()
    return {"purpose": intent.purpose, "needed_until": intent.needed_until}


def lapsed(info: RequestInfo, now: datetime) -> str | None:
    """Why a key can no longer be provided for this request: the end date it fixed passed
    while nobody answered (the key would be forgotten at once). None: it can."""
    if info.needed_until is None or info.needed_until > now:
        return None
    return (
        f"<@{info.user_id}> needed this key only until {info.needed_until:%Y-%m-%d}, which has "
        "passed: nothing was stored. Ask them whether they still need one."
    )


class RequestService:
    def __init__(self, store: Store, credentials: CredentialService, limits: Limits) -> None:
        self.store = store
        self.credentials = credentials
        self.limits = limits

    def request(
        self,
        actor: Actor,
        *,
        provider_id: str,
        provider_team: str,
        platform: str,
        note: str = "",
        channel_id: str | None = None,
        external: bool = False,
        intent: Intent | None = None,
    ) -> Opened | Refused:
        """`provider_team`: the workspace Slack says the provider belongs to. `external`: the
        caller asks a member of another organisation it shares a channel with (Slack
        Connect) and falls back to a link when Slack will not let getkey reach them. `intent`:
        what the key is for and until when, fixed for the provider (None: they choose)."""
        flow = askable(self.store, platform, actor)
        if isinstance(flow, Refused):
            return flow
        if provider_id == actor.user_id:
            return Refused("That is you: use `/getkey " + flow.id + "` to add your own key.")
        if provider_team != actor.team_id and not external:
            return Refused(
                "You can only ask people of your own workspace; this person belongs to another."
            )
        nudge_after, expire_after = self.delays(actor.team_id)
        try:
            info = self.store.open_request(
                team_id=actor.team_id,
                user_id=actor.user_id,
                provider_id=provider_id,
                platform=flow.id,
                note=" ".join(note.split())[:300],
                channel_id=channel_id,
                nudge_after=nudge_after,
                expire_after=expire_after,
                max_open=self.limits.max_open,
                enterprise_id=actor.enterprise_id,
                purpose=str(intent.purpose) if intent else None,
                needed_until=intent.needed_until if intent else None,
            )
        except TooManyOpen:
            return too_many_open(self.limits.max_open)
        log.info("request opened", extra={"platform": flow.id, "request": info.id})
        return Opened(info, flow)

    def delays(self, team_id: str) -> tuple[timedelta, timedelta]:
        """(nudge after, expire after) for a new request: the workspace's own, else the
        settings'. A nudge planned at or after expiry never happens."""
        nudge_days, expire_days = self.store.request_policy(team_id)
        nudge = timedelta(days=nudge_days) if nudge_days else self.limits.nudge_after
        expire = timedelta(days=expire_days) if expire_days else self.limits.expire_after
        return nudge, expire

    def for_provider(self, request_id: str, actor: Actor) -> Opened | Refused:
        """The open request `actor` was asked to answer."""
        info = self.store.get_request(request_id) if request_id else None
        # Slack user ids are unique across organisations, so a Slack Connect provider (whose
        # own workspace differs from the request's) is still named by their id alone.
        if info is None or info.provider_id != actor.user_id:
            return Refused("This request is not addressed to you.")
        if not info.is_open:
            return Refused(f"This request is {info.state}: there is nothing to do any more.")
        flow = catalog.get(info.platform)
        if flow is None:
            return Refused("This platform is no longer supported.")
        if not offered(self.store, flow, info.team_id):
            # Asked before the workspace's admins switched the platform off.
            return Refused(not_offered(flow))
        if (why := lapsed(info, self.credentials.now())) is not None:
            return Refused(why)
        moved = self.store.request_moved(info.id, "opened")
        return Opened(moved or info, flow)

    def submit(
        self,
        request_id: str,
        flow: Flow,
        values: Mapping[str, str],
        *,
        provider: Actor,
        view_id: str,
        view_hash: str,
        rotation_days: int | None = None,
        intent: Intent | None = None,
    ) -> SubmitOutcome | Refused:
        """Verify and store for the requester. Rejections move the request to 'failed' (the
        cause in words, never a value). What the request fixed (purpose, end date) wins over
        the provider's `intent`."""
        found = self.for_provider(request_id, provider)
        if isinstance(found, Refused):
            return found
        info = found.request
        outcome = self.credentials.submit(
            flow, values, actor=info.requester, view_id=view_id, view_hash=view_hash,
            rotation_days=rotation_days, provided_by=provider.user_id,
            **fixed_intent(info, intent),
        )  # fmt: skip
        if isinstance(outcome, Stored):
            self._fulfilled(info, outcome.info.id)
        elif isinstance(outcome, Rejected):
            cause = outcome.result.detail or str(outcome.result.failure or "not accepted")
            self.store.request_moved(info.id, "failed", detail=cause)
        return outcome

    def _fulfilled(self, info: RequestInfo, credential_id: str) -> None:
        """Link the stored key to its request. When the request was cancelled or expired while
        the platform was being asked, the key is kept as provided all the same: the request
        records it (so the provider can withdraw it, and is told so) and the requester hears
        it was stored; never a key that nobody can withdraw."""
        if self.store.request_moved(info.id, "fulfilled", credential_id=credential_id):
            return
        late = self.store.request_moved(
            info.id, "fulfilled", credential_id=credential_id, only_open=False,
            detail="provided after the request had closed",
        )  # fmt: skip
        log.info("request fulfilled after it closed",
                 extra={"request": info.id, "was": info.state, "linked": late is not None})

    def unreached(self, request_id: str) -> RequestInfo | None:
        """Slack would not carry the request to its provider (another organisation's
        settings): closed without a message; the caller offers a link instead."""
        return self.store.request_moved(request_id, "unreached")

    def cancel(self, request_id: str, actor: Actor) -> RequestInfo | Refused:
        info = self.store.get_request(request_id)
        if info is None or info.requester != actor:
            return Refused("This is not one of your requests.")
        moved = self.store.request_moved(request_id, "cancelled")
        return moved or Refused(f"This request is already {info.state}.")

    def resend(self, request_id: str, actor: Actor) -> Opened | Refused:
        """The requester sends an open request's message to the provider again."""
        info = self.store.get_request(request_id)
        if info is None or info.requester != actor:
            return Refused("This is not one of your requests.")
        if not info.is_open:
            return Refused(f"This request is {info.state}: ask again with `/getkey request`.")
        flow = catalog.get(info.platform)
        if flow is None:
            return Refused("This platform is no longer supported.")
        claimed = self.store.claim_resend(request_id, RESEND_EVERY)
        if claimed is None:
            fresh = self.store.get_request(request_id) or info
            return Refused(resend_wait(fresh))
        return Opened(claimed, flow)

    def ask_again(self, credential_id: str, actor: Actor) -> Opened | Draft | Refused:
        """"Ask for a new one": what to ask whoever provided this credential (same platform,
        same note). An open request to them for it already: that one (to send again)."""
        found = self.credentials.owned(credential_id, actor)
        if not isinstance(found, Done):
            return Refused("Only the person this key was provided for can ask for a new one.")
        info = found.info
        if not info.provided_by:
            return Refused("Nobody provided this key for you: rotate it yourself instead.")
        for mine in self.store.requests_of(actor.team_id, actor.user_id):
            if mine.is_open and (mine.provider_id, mine.platform) == (
                info.provided_by, info.platform
            ):
                flow = catalog.get(mine.platform)
                if flow is not None:
                    return Opened(mine, flow)
        earlier = self.store.request_for_credential(credential_id)
        # The same job; an end date already passed is not asked for again.
        until = info.needed_until
        until = until if until is not None and until > self.credentials.now() else None
        return Draft(
            provider_id=info.provided_by,
            platform=info.platform,
            note=earlier.note if earlier else "",
            channel_id=earlier.channel_id if earlier else None,
            intent=Intent(Purpose.parse(info.purpose, Purpose.READ), until),
        )

    def mine(self, actor: Actor) -> list[RequestInfo]:
        return self.store.requests_of(actor.team_id, actor.user_id)

    def provided(self, actor: Actor) -> list[tuple[RequestInfo, CredentialInfo]]:
        """What `actor` provided to others and is still stored (they may withdraw it)."""
        return self.store.provided_by_user(actor.team_id, actor.user_id)

    def withdraw(self, request_id: str, actor: Actor) -> RequestInfo | Refused:
        """The provider deletes what they provided; the requester is told (outbox)."""
        info = self.store.get_request(request_id) if request_id else None
        if info is None or info.provider_id != actor.user_id or info.team_id != actor.team_id:
            return Refused("Only the person who provided this key can withdraw it.")
        done = self.store.withdraw_provided(request_id, actor=actor.audit)
        if done is None:
            return Refused("There is nothing to withdraw: this key is no longer stored.")
        log.info("provided key withdrawn", extra={"request": request_id})
        return done

    def tick(self) -> tuple[list[RequestInfo], list[RequestInfo]]:
        """The scheduler's pass: nudge what is due, expire what is past (both owe messages)."""
        return self.store.nudge_requests(), self.store.expire_requests()
