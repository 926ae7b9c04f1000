"""What a verification or a renewal can end with: the types `flows.http` and `flows.base` share.

They live apart from `flows.base` so that the HTTP layer needs nothing from the Flow class, and
the two modules never import each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Failure(enum.StrEnum):
    """Why a verification did not succeed: one list shared by every platform, so each
    renderer needs exactly one mapping from failure to wording."""

    BAD_CREDENTIAL = "bad_credential"  # the platform rejected the key/token itself
    WRONG_IDENTIFIER = "wrong_identifier"  # store ID / hash / prefix / account does not exist
    MISSING_PERMISSION = "missing_permission"  # authenticated, but a needed scope is absent
    NO_API_ACCESS = "no_api_access"  # plan or account type without API access
    RATE_LIMITED = "rate_limited"  # try again after `retry_after` seconds
    UNREACHABLE = "unreachable"  # network error, timeout or a 5xx from the platform
    UNEXPECTED = "unexpected"  # an answer we cannot interpret (redirect, malformed body...)
    NOT_VERIFIABLE = "not_verifiable"  # the platform has no API key to verify


@dataclass(frozen=True)
class VerifyResult:
    """What a live verification found. Never contains a secret."""

    ok: bool
    failure: Failure | None = None
    # A sentence for the person: what exactly is wrong, or a note about what was found.
    detail: str = ""
    # Field key the failure points at (for re-rendering the form with the cause).
    field: str | None = None
    store_name: str | None = None
    store_url: str | None = None
    account: str | None = None
    environment: str | None = None
    granted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    expires_at: datetime | None = None
    retry_after: float | None = None
    # The platform's own id for the store/account, when only verification reveals it; it then
    # names "the same store" for replacement instead of Flow.identity(values).
    identity: str | None = None
    # The flow's own words for a failure the shared ones misfit (a self-hosted store whose API
    # is switched off, or not at the address given), in place of bot.wording's headline and
    # next step. `next_step` may use {platform}, {retry} and {guide}.
    headline: str = ""
    next_step: str = ""

    @classmethod
    def failed(
        cls,
        failure: Failure,
        detail: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
        **found: object,
    ) -> VerifyResult:
        return cls(
            ok=False,
            failure=failure,
            detail=detail,
            field=field,
            retry_after=retry_after,
            **found,  # type: ignore[arg-type]
        )


class VerifyError(Exception):
    """Raised inside `verify()` (or by the HTTP layer) to end verification with a failure.
    The message must be safe to show: no secret, no raw response dump."""

    def __init__(
        self,
        failure: Failure,
        detail: str,
        *,
        field: str | None = None,
        retry_after: float | None = None,
        headline: str = "",
        next_step: str = "",
    ) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        self.field = field
        self.retry_after = retry_after
        self.headline = headline
        self.next_step = next_step

    def result(self) -> VerifyResult:
        return VerifyResult.failed(
            self.failure, self.detail, field=self.field, retry_after=self.retry_after,
            headline=self.headline, next_step=self.next_step,
        )


@dataclass(frozen=True)
class Renewal:
    """New secret values obtained without the person (an OAuth refresh), and their expiry."""

    values: dict[str, str]
    expires_at: datetime | None = None




@dataclass(frozen=True)
class RenewalNotPossible:
    """`Flow.renew` cannot renew this credential, for a reason that is neither the owner's
    mistake nor the operator's settings (e.g. the token belongs to another app). `reason` is
    a sentence for the credential's owner; nothing is wrong with the credential itself, so
    renderers show it beside the usual expiry reminder and do not mark the credential failing.
    """

    reason: str
