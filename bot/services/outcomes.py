"""What the credential use cases (bot.services.credentials) answer: who acts (Actor, defined
with the read models in bot.store.info so the store can name it too), and the typed outcome of
each use case that every surface renders in its own words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.info import Actor, CredentialInfo
from flows.base import Purpose, VerifyResult

__all__ = [
    "ActionOutcome", "Actor", "Checked", "Done", "Gone", "NotRenewable", "NotSaved", "NotYours",
    "Rejected", "Stored", "SubmitOutcome",
]


@dataclass(frozen=True)
class Rejected:
    """The platform did not accept the credential (or could not be asked); nothing stored."""

    result: VerifyResult


@dataclass(frozen=True)
class Stored:
    info: CredentialInfo
    result: VerifyResult
    replaced: bool
    # A retried delivery of a submission already stored: the first one told the person.
    duplicate: bool
    # The credential this submission rotated ("Rotate now"), when it was the person's own.
    rotating: CredentialInfo | None


@dataclass(frozen=True)
class NotSaved:
    """Verified, but the database failed: nothing half-stored, the person must try again."""

    result: VerifyResult


SubmitOutcome = Rejected | Stored | NotSaved


@dataclass(frozen=True)
class Done:
    info: CredentialInfo  # as it is after the action (as it was, for a deletion)


@dataclass(frozen=True)
class Gone:
    """No such credential any more (deleted, or never existed)."""


@dataclass(frozen=True)
class NotYours:
    info: CredentialInfo


ActionOutcome = Done | Gone | NotYours


@dataclass(frozen=True)
class Checked:
    """A re-check or renewal ran. When it started a failure episode, the store wrote the
    message owed to the owner in the same transaction (the outbox sends it)."""

    info: CredentialInfo | None
    failing: bool = False
    renewed: bool = False
    # Worth trying again later (rate limited, platform unreachable): nothing was concluded.
    inconclusive: bool = False


@dataclass(frozen=True)
class NotRenewable:
    """These values cannot be renewed without the owner; `reason` says why when the platform
    told us (e.g. the token was issued to another app). The owner gets the usual reminder."""

    reason: str | None = None


@dataclass(frozen=True)
class Intent:
    """What a key is for and until when (flows.purpose; None: as long as it is needed)."""

    purpose: Purpose = Purpose.READ
    needed_until: datetime | None = None
