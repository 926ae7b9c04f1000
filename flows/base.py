"""What every platform flow is made of. Nothing here knows about Slack or a terminal.

A flow is mostly data (steps, fields, troubleshooting, rotation period) plus two functions:
`check()` cleans pasted values without any network I/O and reports mistakes per field, and
`verify()` proves the cleaned values work against the platform's API. Renderers (bot/, cli)
turn these values into words and layout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

# The outcome types are defined apart so that flows.http needs nothing from this module;
# they are re-exported here because every flow imports them from flows.base.
from flows.budget import Budget
from flows.outcomes import (
    Failure,
    Renewal,
    RenewalNotPossible,
    VerifyError,
    VerifyResult,
)
from flows.purpose import Purpose, missing_for, refuse, unchecked

if TYPE_CHECKING:
    from flows.http import PlatformHttp

__all__ = [
    "Budget",
    "CheckResult",
    "Failure",
    "Field",
    "FieldError",
    "Flow",
    "Purpose",
    "Renewal",
    "RenewalNotPossible",
    "Step",
    "Trouble",
    "VerifyError",
    "VerifyResult",
    "field_error",
    "mask",
]

log = logging.getLogger(__name__)


class FieldError(ValueError):
    """A pasted value has the wrong shape. The message says how to fix it and never repeats
    the value itself (it may be a secret)."""


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
    # How to take the credential back on the platform when the job is done (or it leaked):
    # renderers show these beside deletion, so the platform's copy never outlives ours.
    revoke_steps: ClassVar[tuple[Step, ...]] = ()
    # What a key needs for each purpose (flows.purpose), by the names `verify` puts in
    # `VerifyResult.granted`. `verify` itself checks READ, as it always has; for a purpose
    # beyond it, `run_verify` compares these with what was granted (after `granted_for`, which
    # may ask the platform more). A purpose left out cannot be checked: `purpose_unchecked`
    # says so in the result instead of pretending.
    needs: ClassVar[Mapping[Purpose, tuple[str, ...]]] = {}
    # How to grant what is missing for a purpose, as the platform's screens say it.
    purpose_fix: ClassVar[Mapping[Purpose, str]] = {}
    purpose_unchecked: ClassVar[Mapping[Purpose, str]] = {}
    # The field a "not for this job" result points at; default: the first secret field.
    purpose_field: ClassVar[str | None] = None
    rotation_days: ClassVar[int] = 90
    # Editions of one product line ("lightspeed"): a bare family name answers with a picker of
    # every edition, each with `edition` (its short name) and `recognise` (how a person tells
    # it is theirs: what the back office looks like, its address).
    family: ClassVar[str] = ""
    edition: ClassVar[str] = ""
    recognise: ClassVar[str] = ""
    # How many calls this host may make to the platform (flows.budget); None: no limit of
    # our own beyond answering the platform's 429s.
    budget: ClassVar[Budget | None] = None
    # False for platforms without an API key (the guide is the whole flow).
    verifiable: ClassVar[bool] = True
    # Keys of the non-secret fields that identify "the same store" for replacement.
    identity_fields: ClassVar[tuple[str, ...]] = ()
    # For flows that can renew a credential themselves (`renew`): the warning renderers show
    # beside the per-credential opt-in to automatic renewal, which is off by default. None:
    # nothing to opt in to. Renewal must never happen without that opt-in, because it may
    # take the credential away from another tool that holds a copy.
    renewal_consent: ClassVar[str | None] = None

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

    def run_verify(
        self, values: Mapping[str, str], http: PlatformHttp, purpose: Purpose = Purpose.READ
    ) -> VerifyResult:
        """`verify()` for `purpose`, with every failure turned into a result a person can act
        on."""
        if not self.verifiable:
            return VerifyResult.failed(
                Failure.NOT_VERIFIABLE, f"{self.name} has no API key to verify."
            )
        recent = getattr(http, "recent", None)
        if recent is None:
            return self._run_verify(values, http, purpose)
        # Identical values sent again within seconds get the same answer, not a second call.
        keyed = {**values, "\0purpose": str(purpose)}
        return recent.run(self.id, keyed, lambda: self._run_verify(values, http, purpose))

    def granted_for(
        self, purpose: Purpose, values: Mapping[str, str], http: PlatformHttp,
        result: VerifyResult,
    ) -> tuple[str, ...]:
        """What the key was granted, as far as `purpose` needs to know. Flows whose read-only
        verification cannot see write access (BigCommerce) ask the platform more here."""
        return result.granted

    def check_purpose(
        self, purpose: Purpose, values: Mapping[str, str], http: PlatformHttp,
        result: VerifyResult,
    ) -> VerifyResult:
        """A working key's result, judged for what it is for."""
        if purpose is Purpose.READ or not result.ok:
            return result
        if purpose not in self.needs:
            note = self.purpose_unchecked.get(purpose) or (
                f"{self.name} does not tell what this key may change, so getkey could not "
                f"check that it can write. Make sure it was created with write access."
            )
            return unchecked(result, note)
        missing = missing_for(self.needs[purpose], self.granted_for(purpose, values, http,
                                                                    result))
        if not missing:
            return result
        field = self.purpose_field or next((f.key for f in self.secret_fields), None)
        return replace(refuse(result, self.name, purpose, missing,
                              self.purpose_fix.get(purpose, "")), field=field)

    def _run_verify(
        self, values: Mapping[str, str], http: PlatformHttp, purpose: Purpose = Purpose.READ
    ) -> VerifyResult:
        try:
            return self.check_purpose(purpose, values, http, self.verify(values, http))
        except VerifyError as exc:
            return exc.result()
        except Exception as exc:
            # The exception text could quote a request; log only its type.
            log.error("verify crashed", extra={"platform": self.id, "error": type(exc).__name__})
            return VerifyResult.failed(
                Failure.UNEXPECTED,
                f"Something went wrong while checking with {self.name}; please try again.",
            )

    # -- handing the credential to a tool ---------------------------------------------------
    def access_values(self, values: Mapping[str, str], http: PlatformHttp) -> dict[str, str]:
        """What a tool needs to call the platform right now, from the stored `values`.

        By default the stored values themselves. A flow whose stored credential is a client pair
        that mints short-lived tokens (Shopify's Dev Dashboard apps) returns the values plus a
        freshly minted token, so whoever hands a credential out (the API, `reveal`) never gives
        a tool a token that expires before it is used. Nothing returned here is stored; a
        refusal by the platform raises VerifyError (a safe message, no secret)."""
        return dict(values)

    # -- renewal without the person (platforms with refresh tokens) ---------------------
    def can_renew(self, environ: Mapping[str, str]) -> bool:
        """Whether this process is set up (operator settings in `environ`) to renew this
        platform's credentials at all. It says nothing about one credential: `renew` decides
        that, and callers only call `renew` for a credential whose owner opted in (see
        `renewal_consent`)."""
        return False

    def renew(
        self, values: Mapping[str, str], http: PlatformHttp, environ: Mapping[str, str]
    ) -> Renewal | RenewalNotPossible | VerifyResult | None:
        """Renew one credential whose owner opted in. Never retried. Returns:

        - Renewal: new secret values to store (atomically, before anything uses them);
        - RenewalNotPossible: these values can never be renewed by this process for a reason
          that blames nobody (e.g. the token was issued to another app); `reason` is for the
          owner, and the credential is not failing;
        - VerifyResult (failed): the platform refused. `field` None means the operator's own
          app credentials were refused (a settings problem); a field key means the stored
          credential was (the owner must act);
        - None: nothing to renew with (e.g. no refresh token stored, or `can_renew` is
          False).
        """
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

