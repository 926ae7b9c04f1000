"""The credential use cases, Slack-free: submit, delete, snooze, stop, recheck, renew.

Every surface (Slack listeners, the reminder sweep, the CLI, later the tool API) calls these and
renders the typed outcome it gets back; none of them verifies, stores or checks ownership on its
own. This is the one place for: who may act on a credential, the audit actor string, the
idempotency key of a submission, and the order verify → store → plan reminders.

Everything here is blocking (a live verification takes seconds, the store is synchronous), so
callers on an event loop run it in the slow-work pool, never on the ack path.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import metrics
from bot.clock import aware, utcnow
from bot.services.outcomes import (
    ActionOutcome,
    Actor,
    Checked,
    Done,
    Gone,
    Intent,
    NotRenewable,
    NotSaved,
    NotYours,
    Rejected,
    Stored,
    SubmitOutcome,
)
from bot.store import CredentialInfo
from bot.vocabulary import OutboxKind
from flows import catalog
from flows.base import Failure, Flow, Purpose, RenewalNotPossible, VerifyResult
from flows.http import PlatformHttp

if TYPE_CHECKING:
    from bot.store.repository import Store

log = logging.getLogger(__name__)

# Verification failures that say nothing about the key (our network, their outage, a busy API):
# the credential is checked again later instead of being called broken.
INCONCLUSIVE = frozenset({Failure.RATE_LIMITED, Failure.UNREACHABLE})
# A re-check renews a renewable connection whose access token is this close to expiry (normally
# its expiry reminder renews it on time; this catches a broken chain).
RENEW_AHEAD = timedelta(minutes=10)
# The actor recorded for work getkey does on its own (re-checks, renewals).
SYSTEM_ACTOR = "getkey"
# The outcome types live in bot.services.outcomes; they are imported from here too.
__all__ = [
    "ActionOutcome", "Actor", "Checked", "CredentialService", "Done", "Gone", "Intent",
    "NotRenewable", "NotSaved", "NotYours", "Rejected", "Stored", "SubmitOutcome", "not_offered",
    "offered",
]
RENEWAL_ACTOR = "getkey:refresh"
READ_ONLY = Intent()  # a key for reading, kept until deleted


# Kinds of message a check can owe the owner (outbox kinds, rendered by the Slack side).
FAILING, RENEW_FAILED = OutboxKind.FAILING, OutboxKind.RENEW_FAILED


def offered(store: Store, flow: Flow, team_id: str, enterprise_id: str | None = None) -> bool:
    """Whether the workspace's admins offer `flow` (all platforms unless they chose): the one
    rule every entry point applies, read from the store (use cases in worker threads) or from
    bot.services.admins' cached defaults (Slack entry points before an ack)."""
    return store.workspace_defaults(team_id, enterprise_id).offers(flow.id)


def not_offered(flow: Flow) -> str:
    """Why a platform the workspace's admins switched off cannot be used here."""
    return (
        f"{flow.name} is not offered in this workspace: its getkey admins chose the platforms "
        "it offers. Type `/getkey help` to see them, or ask an admin."
    )


def outcome_label(result: VerifyResult) -> str:
    """A metric label: "ok" or the failure's name (a closed set)."""
    if result.ok:
        return "ok"
    return str(result.failure.value if result.failure else "failed")


def purpose_of(info: CredentialInfo) -> Purpose:
    """What a stored key is for (keys stored before purposes existed are for reading)."""
    return Purpose.parse(info.purpose, Purpose.READ)


def submission_key(view_id: str, view_hash: str, user_id: str) -> str:
    """Same for a retried delivery of one submission, different for a new attempt in the same
    modal (each views.update changes the view's hash)."""
    seed = f"{view_id}:{user_id}:{view_hash}"
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


class CredentialService:
    """The use cases over one store and one platform HTTP layer."""

    def __init__(
        self,
        store: Store,
        http: PlatformHttp,
        *,
        clock: Callable[[], datetime] = utcnow,
        platform_env: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.http = http
        # Re-checks spend only their share of each platform's request budget and queue behind
        # people's verifications (flows.budget); same client, same budgets.
        self.recheck_http = http.for_background() if hasattr(http, "for_background") else http
        self.clock = clock
        # What flows may read for renewal (the operator's client credentials), from settings.
        self.platform_env: Mapping[str, str] = platform_env or {}

    def now(self) -> datetime:
        return aware(self.clock())

    # -- reads --------------------------------------------------------------------------------
    def mine(self, actor: Actor) -> list[CredentialInfo]:
        return self.store.list_for_user(actor.team_id, actor.user_id, actor.enterprise_id)

    def owned(self, credential_id: str, actor: Actor) -> ActionOutcome:
        """The credential, if `actor` owns it. The only ownership check in getkey."""
        info = self.store.get(credential_id) if credential_id else None
        if info is None:
            return Gone()
        if not actor.owns(info):
            log.info("refused: not the owner", extra={"credential": info.id})
            return NotYours(info)
        return Done(info)

    def rotation_days_for(self, flow: Flow, workspace_days: int | None = None) -> int:
        """The default rotation period offered for `flow`: the workspace admins' choice
        (`workspace_days`, bot.services.admins defaults), else the operator's, else the flow's.
        The one precedence, applied by the store too when a submission names no period."""
        return self.store.rotation_days_for(flow, workspace_days)

    def offers(self, flow: Flow, team_id: str, enterprise_id: str | None = None) -> bool:
        return offered(self.store, flow, team_id, enterprise_id)

    # -- submit -------------------------------------------------------------------------------
    def submit(
        self,
        flow: Flow,
        values: Mapping[str, str],
        *,
        actor: Actor,
        view_id: str,
        view_hash: str,
        rotating_id: str | None = None,
        rotation_days: int | None = None,
        auto_renew: bool = False,
        provided_by: str | None = None,
        purpose: Purpose = Purpose.READ,
        needed_until: datetime | None = None,
    ) -> SubmitOutcome:
        """Verify live for `purpose` (what the key is for), then store encrypted and plan
        reminders, in that order: nothing the platform refused is ever stored. `values` have
        passed `flow.check`. `provided_by`: who typed it in for `actor` (a request,
        bot.services.requests); `actor` owns the result."""
        # Written before the platform is asked and removed with the outcome: after a crash, the
        # person is told to submit again (the row names the view, never a value).
        self.store.submission_started(
            view_id, team_id=actor.team_id, user_id=actor.user_id, platform=flow.id
        )
        return self._submit(
            flow, values, actor, view_id, view_hash, rotating_id, rotation_days, auto_renew,
            provided_by, Intent(purpose, needed_until),
        )

    def _submit(
        self,
        flow: Flow,
        values: Mapping[str, str],
        actor: Actor,
        view_id: str,
        view_hash: str,
        rotating_id: str | None,
        rotation_days: int | None,
        auto_renew: bool,
        provided_by: str | None = None,
        intent: Intent = READ_ONLY,
    ) -> SubmitOutcome:
        started = time.perf_counter()
        result = flow.run_verify(values, self.http, purpose=intent.purpose)
        metrics.observe_verification(flow.id, outcome_label(result),
                                     time.perf_counter() - started)
        log.info("verified", extra={
            "platform": flow.id, "ok": result.ok,
            "failure": str(result.failure) if result.failure else None,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        })  # fmt: skip
        if not result.ok:
            self.store.submission_finished(view_id)
            return Rejected(result)
        try:
            saved = self.store.save(
                team_id=actor.team_id,
                user_id=actor.user_id,
                flow=flow,
                values=values,
                result=result,
                submission_key=submission_key(view_id, view_hash, actor.user_id),
                rotation_days=rotation_days,
                auto_renew=auto_renew if flow.renewal_consent else None,
                # Cleared in the same transaction as the save.
                pending_view_id=view_id,
                provided_by=provided_by,
                enterprise_id=actor.enterprise_id,
                purpose=str(intent.purpose),
                needed_until=intent.needed_until,
            )
        except Exception as exc:
            log.error("store failed", extra={"platform": flow.id, "error": type(exc).__name__})
            self._forget_pending(view_id)
            return NotSaved(result)
        rotating = None
        if rotating_id:
            found = self.owned(rotating_id, actor)
            # Never describe someone else's key.
            rotating = found.info if isinstance(found, Done) else None
        return Stored(info=saved.credential, result=result, replaced=saved.replaced,
                      duplicate=saved.duplicate, rotating=rotating)

    def _forget_pending(self, view_id: str) -> None:
        try:
            self.store.submission_finished(view_id)
        except Exception as exc:  # the database is what failed; recovery will tell them
            log.warning("pending submission left", extra={"error": type(exc).__name__})

    # -- owner actions ------------------------------------------------------------------------
    def delete(self, credential_id: str, actor: Actor) -> ActionOutcome:
        found = self.owned(credential_id, actor)
        if isinstance(found, Done):
            if not self.store.delete(credential_id, actor=actor.audit):
                return Gone()
        return found

    def snooze(self, credential_id: str, actor: Actor, for_: timedelta) -> ActionOutcome:
        found = self.owned(credential_id, actor)
        if not isinstance(found, Done):
            return found
        info = self.store.snooze(
            credential_id, self.now() + for_, actor=actor.audit
        )
        return Done(info)

    def stop(self, credential_id: str, actor: Actor) -> ActionOutcome:
        found = self.owned(credential_id, actor)
        if not isinstance(found, Done):
            return found
        return Done(self.store.stop_reminders(credential_id, actor=actor.audit))

    # -- getkey's own work: re-check and renewal ----------------------------------------------
    def renewable(self, info: CredentialInfo) -> bool:
        """getkey renews a credential itself only when the operator set it up for the platform
        AND the owner opted in (renewing revokes any other copy of the refresh token)."""
        flow = catalog.get(info.platform)
        return bool(info.auto_renew) and flow is not None and flow.can_renew(self.platform_env)

    def recheck(self, info: CredentialInfo, now: datetime | None = None) -> Checked:
        """The daily re-verification of one stored credential (renewing it first when it is a
        renewable connection close to expiry)."""
        now = aware(now or self.now())
        flow = catalog.get(info.platform)
        if flow is None:
            log.warning("recheck skipped: unknown platform", extra={"platform": info.platform})
            return Checked(info)
        if not flow.verifiable:
            return Checked(info)
        expires = aware(info.expires_at) if info.expires_at else None
        if self.renewable(info) and (expires is None or expires - now <= RENEW_AHEAD):
            renewed = self.renew(info, http=self.recheck_http)
            if isinstance(renewed, Checked):
                return renewed
        if expires is not None and expires <= now:
            # Expired keys are the expiry reminders' business; "no longer works" would only
            # repeat them.
            return Checked(info)
        values = {**info.identifiers, **self.store.secret_values(info.id)}
        started = time.perf_counter()
        # Checked for the job it was stored for: a read-and-write key that lost its write
        # permissions is failing, naming them.
        result = flow.run_verify(values, self.recheck_http, purpose=purpose_of(info))
        metrics.observe_verification(flow.id, outcome_label(result),
                                     time.perf_counter() - started)
        return self._record(info, result, FAILING)

    def renew(
        self, info: CredentialInfo, *, http: PlatformHttp | None = None
    ) -> Checked | NotRenewable:
        """Renew without the owner, store the new secrets atomically, verify with them.
        NotRenewable when these values cannot be renewed (the caller reminds the owner)."""
        http = http or self.http
        flow = catalog.get(info.platform)
        if flow is None:
            return NotRenewable()
        values = {**info.identifiers, **self.store.secret_values(info.id)}
        outcome = flow.renew(values, http, self.platform_env)
        if outcome is None:
            return NotRenewable()
        if isinstance(outcome, RenewalNotPossible):
            return NotRenewable(outcome.reason)
        if isinstance(outcome, VerifyResult):
            if outcome.failure in INCONCLUSIVE:
                return Checked(info, inconclusive=True)
            if outcome.field is None and outcome.failure == Failure.BAD_CREDENTIAL:
                # The app's own client credentials were refused: the operator's problem, not
                # the owner's, so nothing is marked failing and nobody is DMed.
                log.error(
                    "renewal refused the app's client credentials",
                    extra={"credential": info.id, "platform": flow.id},
                )
                return Checked(info)
            return self._record(info, outcome, RENEW_FAILED)
        secret_keys = {f.key for f in flow.secret_fields}
        # Refresh tokens are often single-use: every new secret is stored, in one transaction,
        # before anything uses them.
        self.store.replace_secret(
            info.id,
            {k: v for k, v in outcome.values.items() if k in secret_keys},
            actor=RENEWAL_ACTOR,
        )
        log.info("connection renewed", extra={"credential": info.id, "platform": flow.id})
        result = flow.run_verify({**values, **outcome.values}, http, purpose=purpose_of(info))
        if not result.ok and result.failure in INCONCLUSIVE:
            # The token endpoint just vouched for the connection; record the new expiry so the
            # next renewal is planned.
            result = VerifyResult(
                ok=True,
                detail="Renewed; the account check will be repeated later.",
                expires_at=outcome.expires_at,
            )
        checked = self._record(info, result, FAILING)
        return Checked(checked.info, failing=checked.failing, renewed=result.ok)

    def _record(self, info: CredentialInfo, result: VerifyResult, kind: str) -> Checked:
        # The store treats rate limits and outages as inconclusive (checked again sooner), and
        # owes the owner a `kind` message when a failure episode starts.
        updated = self.store.record_check(info.id, result, failure_kind=kind)
        if result.ok:
            return Checked(updated)
        if result.failure in INCONCLUSIVE:
            return Checked(updated, inconclusive=True)
        return Checked(updated, failing=True)
