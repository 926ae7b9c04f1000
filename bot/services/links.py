"""Requests by link, Slack-free (issue 22): a requester makes a secret link, whoever opens it
sees the platform's guide and form, and the key they submit is verified and stored for the
requester exactly like an answer to a Slack request (bot.services.requests).

The link's token is 256 random bits, shown once (in the URL handed to the requester) and kept
only as its SHA-256. A link ends with one verified key, its expiry, a cancellation, or
MAX_FAILURES failed verifications (then it locks: it must not become a free oracle for
guessing keys). Typed outcomes; the pages (bot.http.pages) and Slack render them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import aware, utcnow
from bot.services.credentials import (
    INCONCLUSIVE,
    Actor,
    CredentialService,
    Intent,
    NotSaved,
    Rejected,
    Stored,
)
from bot.services.requests import Refused, askable, fixed_intent, lapsed, too_many_open
from bot.store.info import CredentialInfo
from bot.store.requests import LINK_PROVIDER, RequestInfo, TooManyOpen
from flows import catalog
from flows.base import Flow, VerifyResult

if TYPE_CHECKING:
    from bot.store.repository import Store

log = logging.getLogger(__name__)

MAX_FAILURES = 10
LINK_PATH = "/k/"
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
NAME_LIMIT = 80


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LinkMade:
    request: RequestInfo
    flow: Flow
    url: str  # holds the token: shown to the requester once, never logged or stored


@dataclass(frozen=True)
class LinkPage:
    """An open link: who asks, for which platform."""

    request: RequestInfo
    flow: Flow


@dataclass(frozen=True)
class LinkClosed:
    """Nothing to do on this link; `why` is unknown, expired, cancelled, used or locked."""

    why: str
    request: RequestInfo | None = None


@dataclass(frozen=True)
class FormErrors:
    """Format mistakes, per field; nothing was sent anywhere and nothing counted."""

    page: LinkPage
    errors: dict[str, str]


@dataclass(frozen=True)
class LinkRejected:
    page: LinkPage
    result: VerifyResult
    locked: bool
    attempts_left: int


@dataclass(frozen=True)
class LinkStored:
    page: LinkPage
    info: CredentialInfo
    result: VerifyResult


@dataclass(frozen=True)
class LinkNotSaved:
    page: LinkPage


LinkOutcome = FormErrors | LinkRejected | LinkStored | LinkNotSaved | LinkClosed


class LinkService:
    def __init__(
        self,
        store: Store,
        credentials: CredentialService,
        *,
        public_url: str | None,
        expire_days: int,
        max_open: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.public_url = public_url
        self.expire_after = timedelta(days=expire_days)
        self.max_open = max_open
        self.clock = clock
        # One verification at a time per link in this process: a link ends with ONE key.
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    # -- the requester ----------------------------------------------------------------------
    def create(
        self,
        actor: Actor,
        platform: str,
        *,
        note: str = "",
        channel_id: str | None = None,
        requester_name: str = "",
        team_name: str = "",
        base_url: str | None = None,
        intent: Intent | None = None,
    ) -> LinkMade | Refused:
        """`base_url`: where the pages are served (the console); else GETKEY_PUBLIC_URL."""
        base = base_url or self.public_url
        if not base:
            return Refused(
                "Links need GETKEY_PUBLIC_URL: set it to the https address of this getkey "
                "(the proxy in front of `getkey serve --http`), then ask again."
            )
        flow = askable(self.store, platform, actor)
        if isinstance(flow, Refused):
            return flow
        token = secrets.token_urlsafe(32)
        try:
            info = self.store.open_request(
                team_id=actor.team_id, user_id=actor.user_id, provider_id=LINK_PROVIDER,
                platform=flow.id, note=" ".join(note.split())[:300], channel_id=channel_id,
                # Nobody to nudge: the nudge falls at expiry, so it never happens.
                nudge_after=self.expire_after, expire_after=self.expire_after,
                max_open=self.max_open, link_hash=link_hash(token),
                requester_name=requester_name[:NAME_LIMIT], team_name=team_name[:NAME_LIMIT],
                purpose=str(intent.purpose) if intent else None,
                needed_until=intent.needed_until if intent else None,
            )  # fmt: skip
        except TooManyOpen:
            return too_many_open(self.max_open)
        log.info("link request opened", extra={"platform": flow.id, "request": info.id})
        return LinkMade(info, flow, base.rstrip("/") + LINK_PATH + token)

    def cancel(
        self, request_id: str, actor: Actor, *, admin: bool = False
    ) -> RequestInfo | Refused:
        """The requester (or an admin of the workspace, `admin`) closes a link."""
        info = self.store.get_request(request_id) if request_id else None
        if info is None or not info.by_link or info.team_id != actor.team_id or not (
            admin or info.user_id == actor.user_id
        ):
            return Refused("This is not one of your links.")
        moved = self.store.request_moved(request_id, "cancelled")
        return moved or Refused(f"This link is already {info.state}.")

    # -- whoever opens the link -------------------------------------------------------------
    def find(self, token: str) -> LinkPage | LinkClosed:
        if not TOKEN_SHAPE.fullmatch(token or ""):
            return LinkClosed("unknown")
        info = self.store.request_by_link(link_hash(token))
        if info is None:
            return LinkClosed("unknown")
        if info.state == "fulfilled" or info.state == "withdrawn":
            return LinkClosed("used", info)
        if info.state in ("cancelled", "expired", "locked"):
            return LinkClosed(info.state, info)
        if aware(info.expires_at) <= aware(self.clock()):
            return LinkClosed("expired", info)  # the next tick closes it and tells them
        if lapsed(info, aware(self.clock())):
            return LinkClosed("lapsed", info)  # the key would be forgotten at once
        flow = catalog.get(info.platform)
        if flow is None:
            return LinkClosed("unknown", info)
        return LinkPage(info, flow)

    def opened(self, token: str) -> LinkPage | LinkClosed:
        """The page is shown: the first time, the requester hears that the link was opened."""
        found = self.find(token)
        if isinstance(found, LinkPage) and found.request.state == "open":
            moved = self.store.request_moved(found.request.id, "opened")
            if moved is not None:
                return LinkPage(moved, found.flow)
        return found

    def submit(
        self, token: str, raw: Mapping[str, str], *, provider_name: str = ""
    ) -> LinkOutcome:
        found = self.find(token)
        if isinstance(found, LinkClosed):
            return found
        checked = found.flow.check(raw)
        if not checked.ok:
            return FormErrors(found, dict(checked.errors))
        request_id = found.request.id
        with self._lock:
            if request_id in self._busy:
                return LinkClosed("busy", found.request)
            self._busy.add(request_id)
        try:
            return self._verify(found, checked.values, provider_name)
        finally:
            with self._lock:
                self._busy.discard(request_id)

    def _verify(self, page: LinkPage, values: dict[str, str], provider_name: str) -> LinkOutcome:
        info = page.request
        owner = Actor(info.team_id, info.user_id)
        attempt = f"link-{info.id[:20]}-{uuid.uuid4().hex[:20]}"
        outcome = self.credentials.submit(
            page.flow, values, actor=owner, view_id=attempt, view_hash=attempt,
            provided_by=LINK_PROVIDER, **fixed_intent(info, None),
        )  # fmt: skip
        if isinstance(outcome, Stored):
            name = " ".join(provider_name.split())[:NAME_LIMIT]
            done = self.store.link_fulfilled(info.id, credential_id=outcome.info.id,
                                             provider_name=name)
            log.info("link request fulfilled", extra={"request": info.id})
            return LinkStored(LinkPage(done or info, page.flow), outcome.info, outcome.result)
        if isinstance(outcome, NotSaved):
            return LinkNotSaved(page)
        assert isinstance(outcome, Rejected)
        result = outcome.result
        if result.failure in INCONCLUSIVE:
            # Says nothing about the key: not counted, nobody told; try again later.
            return LinkRejected(page, result, False, MAX_FAILURES - info.failures)
        cause = result.detail or str(result.failure or "not accepted")
        moved = self.store.link_failed(info.id, cause, max_failures=MAX_FAILURES)
        now = moved or info
        locked = now.state == "locked"
        if locked:
            log.warning("link locked after failed verifications", extra={"request": info.id})
        return LinkRejected(LinkPage(now, page.flow), result, locked,
                            max(0, MAX_FAILURES - now.failures))
