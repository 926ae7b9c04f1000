"""What every platform flow is made of. Nothing here knows about Slack or a terminal.

A flow is mostly data (steps, fields, troubleshooting, rotation period) plus two functions:
`check()` cleans pasted values without any network I/O and reports mistakes per field, and
`verify()` proves the cleaned values work against the platform's API. Renderers (bot/, cli)
turn these values into words and layout.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from flows.http import PlatformHttp

log = logging.getLogger(__name__)


class FieldError(ValueError):
    """A pasted value has the wrong shape. The message says how to fix it and never repeats
    the value itself (it may be a secret)."""


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
class Step:
    """One thing the person does on the platform, e.g. a menu path and what to tick.

    `*words*` marks emphasis (a button or menu name); each renderer translates it (Slack
    shows it bold, the terminal drops the asterisks)."""

    title: str
    detail: str = ""


@dataclass(frozen=True)
class Trouble:
    """A failure people actually meet, and the way out."""

    symptom: str
    fix: str


Cleaner = Callable[[str], str]


@dataclass(frozen=True)
class Field:
    """One value the person pastes.

    `clean` receives the raw text (never None) and returns the normalised value or raises
    FieldError. It is only called for non-empty input; emptiness is handled by `required`.

    `shape` is a regular expression (matched with re.fullmatch) that describes every value the
    platform accepts by format for this field, as `clean` returns it (an empty result of an
    optional field means "not given" and is outside its scope). It is deliberately not
    enforced by `run_clean`: the cleaner gives the specific message for each mistake, while
    `shape` states the platform's format once, for tests (whatever `clean` accepts must
    match it) and for renderers (input hints, client-side patterns). Fields with `choices`
    may leave it empty.
    """

    key: str
    label: str
    hint: str = ""
    example: str = ""
    required: bool = True
    secret: bool = False
    multiline: bool = False
    max_length: int = 3000
    # (value, label) pairs: renderers show a picker instead of a text box.
    choices: tuple[tuple[str, str], ...] = ()
    clean: Cleaner | None = None
    shape: str = ""

    def run_clean(self, raw: str | None) -> str:
        text = (raw or "").strip() if not self.multiline else (raw or "").strip("\r\n\t ")
        if not text:
            if self.required:
                raise FieldError(f"{self.label} is required.")
            return ""
        if len(text) > self.max_length:
            raise FieldError(f"{self.label} is too long: at most {self.max_length} characters.")
        if self.choices:
            allowed = {value for value, _ in self.choices}
            if text not in allowed:
                raise FieldError(
                    _without_echo(f"Pick one of the listed options for {self.label}.", text, "")
                )
            return text
        if not self.clean:
            return text
        try:
            return self.clean(text)
        except FieldError as exc:
            raise FieldError(_without_echo(str(exc), text, self.label)) from None


def _without_echo(message: str, pasted: str, label: str) -> str:
    """A fixed message can contain a short paste by coincidence (a fragment of the example it
    quotes); then fall back to a plainer one, so no message ever repeats what was pasted."""
    for candidate in (message, f"{label} is not in the expected format.", "Check this value."):
        if len(pasted) < 4 or pasted not in candidate:
            return candidate
    return "Wrong format."


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
    ) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail
        self.field = field
        self.retry_after = retry_after

    def result(self) -> VerifyResult:
        return VerifyResult.failed(
            self.failure, self.detail, field=self.field, retry_after=self.retry_after
        )


@dataclass(frozen=True)
class Renewal:
    """New secret values obtained without the person (an OAuth refresh), and their expiry."""

    values: dict[str, str]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class CheckResult:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class Flow:
    """Base for one platform. Subclasses set the class attributes and implement `verify`."""

    id: ClassVar[str]
    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str] = ""
    # Default scheme+host for API calls; GETKEY_<ID>_API_URL replaces it (see flows.http).
    api_base: ClassVar[str] = ""
    # Hosts a credential may ever be sent to; "*." prefixes allow subdomains.
    hosts: ClassVar[tuple[str, ...]] = ()
    steps: ClassVar[tuple[Step, ...]] = ()
    fields: ClassVar[tuple[Field, ...]] = ()
    troubleshooting: ClassVar[tuple[Trouble, ...]] = ()
    rotation_days: ClassVar[int] = 90
    # False for platforms without an API key (the guide is the whole flow).
    verifiable: ClassVar[bool] = True
    # Keys of the non-secret fields that identify "the same store" for replacement.
    identity_fields: ClassVar[tuple[str, ...]] = ()

    # -- format checks ------------------------------------------------------------------
    def check(self, raw: Mapping[str, str | None]) -> CheckResult:
        """Clean every field; collect one message per bad field. Never does network I/O."""
        values: dict[str, str] = {}
        errors: dict[str, str] = {}
        for f in self.fields:
            try:
                values[f.key] = f.run_clean(raw.get(f.key))
            except FieldError as exc:
                errors[f.key] = str(exc)
        if not errors:
            try:
                values = self.check_together(values)
            except FieldError as exc:
                key = getattr(exc, "field", None) or self.fields[0].key
                errors[key] = str(exc)
        return CheckResult(values=values if not errors else {}, errors=errors)

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        """Cross-field checks and derivations (e.g. a pasted credentials file). Raise a
        FieldError with a `field` attribute to point at a field."""
        return values

    # -- verification -------------------------------------------------------------------
    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        raise NotImplementedError

    def run_verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        """`verify()` with every failure turned into a result a person can act on."""
        if not self.verifiable:
            return VerifyResult.failed(
                Failure.NOT_VERIFIABLE, f"{self.name} has no API key to verify."
            )
        try:
            return self.verify(values, http)
        except VerifyError as exc:
            return exc.result()
        except Exception as exc:
            # The exception text could quote a request; log only its type.
            log.error("verify crashed", extra={"platform": self.id, "error": type(exc).__name__})
            return VerifyResult.failed(
                Failure.UNEXPECTED,
                f"Something went wrong while checking with {self.name}; please try again.",
            )

    # -- renewal without the person (platforms with refresh tokens) ---------------------
    def can_renew(self, environ: Mapping[str, str]) -> bool:
        """Whether this process is set up to renew this platform's credentials itself."""
        return False

    def renew(
        self, values: Mapping[str, str], http: PlatformHttp, environ: Mapping[str, str]
    ) -> Renewal | VerifyResult | None:
        """New secret values, a failed result (`field` None: the operator's own app
        credentials were refused; otherwise the stored credential was), or None when these
        values cannot be renewed (e.g. no refresh token). Never retried."""
        return None

    # -- helpers for renderers and storage ----------------------------------------------
    @property
    def secret_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)

    @property
    def public_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def identity(self, values: Mapping[str, str]) -> str:
        """A stable, non-secret name for the store these values belong to."""
        parts = [values.get(k, "") for k in self.identity_fields]
        return ":".join(p for p in parts if p) or self.id

    def identity_of(self, values: Mapping[str, str], result: VerifyResult) -> str:
        """The name storage files a verified credential under."""
        return result.identity or self.identity(values)


def field_error(message: str, field: str) -> FieldError:
    exc = FieldError(message)
    exc.field = field  # type: ignore[attr-defined]
    return exc


def mask(secret: str, keep: int = 4) -> str:
    """The only form in which a secret is ever shown: its last few characters at most."""
    secret = secret or ""
    if len(secret) <= keep * 3:
        # Too short to reveal anything safely.
        return "•" * 6
    return "•" * 6 + secret[-keep:]

