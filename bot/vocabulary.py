"""getkey's words for the states that cross layers: what the outbox owes a person, where a
reminder stands, what a credential's status is. The store writes them, the jobs act on them, the
Slack UI, the API and the webhooks say them; each is defined here once.

Every enum is a StrEnum, so a value is the very string stored in the database and shown in JSON.
Values written by older versions are still read (`_missing_`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class OutboxKind(StrEnum):
    """What a durable outbox message (bot.store.outbox) tells its recipient."""

    STORED = "stored"
    REPLACED = "replaced"
    FAILING = "failing"  # a stored key stopped working
    RENEW_FAILED = "renew-failed"  # getkey could not renew (refresh) a key that expires
    REQUEST_OPENED = "request-opened"
    REQUEST_FAILED = "request-failed"
    REQUEST_PROVIDED = "request-provided"
    REQUEST_WITHDRAWN = "request-withdrawn"
    REQUEST_EXPIRED = "request-expired"
    REQUEST_NUDGE = "request-nudge"
    REQUEST_CANCELLED = "request-cancelled"
    REQUEST_LOCKED = "request-locked"  # a link locked after too many failed verifications

    @classmethod
    def _missing_(cls, value: object) -> OutboxKind | None:
        # Older versions called a failed renewal "refresh-failed" in places.
        return cls.RENEW_FAILED if value == "refresh-failed" else None


def outbox_kind(value: str) -> OutboxKind | str:
    """A stored kind as the enum; a kind this version does not know stays a string (a newer
    instance wrote it) and is rendered as nothing rather than crashing the sender."""
    try:
        return OutboxKind(value)
    except ValueError:
        return value


class CredentialStatus(StrEnum):
    """A credential's public status (API, change feed, webhooks, Slack), from the most to the
    least urgent:

    - expired: its expiry date has passed;
    - failing: the last check (daily re-check, renewal or submission) was refused by the
      platform: it no longer works;
    - expiring: it works and expires within EXPIRING_DAYS (bot.store.info);
    - verified: it worked at the last check and is not about to expire.

    The database column holds only verified or failing (what the last check said); expiring
    and expired are read from the expiry date at the moment they are reported.
    """

    VERIFIED = "verified"
    FAILING = "failing"
    EXPIRING = "expiring"
    EXPIRED = "expired"


class ReminderKind(StrEnum):
    """Why a scheduled reminder (bot.store.schedule) exists."""

    EXPIRY = "expiry"
    ROTATION = "rotation"
    END = "end"  # a key needed until a date: "still needed?", then its end


class StageKind(StrEnum):
    """What a reminder DM is about: a scheduled stage, or a notice owed by the outbox."""

    EXPIRY = "expiry"
    ROTATION = "rotation"
    FAILING = "failing"
    RENEW_FAILED = "renew-failed"
    END_ASK = "end-ask"  # "still needed?" three days before a key's end date
    END_DUE = "end-due"  # the end date: revocation steps out, the key deleted


_STAGE = re.compile(
    r"(?P<expiry>expiry-(?:(?P<days>\d{1,4})d|soon))"
    r"|(?P<rotation>rotation-(?:due|overdue-(?P<weeks>\d{1,4})))"
    r"|(?P<notice>failing|renew-failed|refresh-failed|end-ask|end-due)"
)


@dataclass(frozen=True)
class Stage:
    """A reminder's stage, e.g. `expiry-3d`, `expiry-soon`, `rotation-due`,
    `rotation-overdue-2`, `failing`, `renew-failed`. str(stage) is the stored form."""

    kind: StageKind
    days: int | None = None  # expiry: days before it (None: minutes away, "soon")
    weeks: int = 0  # rotation: weeks overdue (0: due now)

    @classmethod
    def parse(cls, text: str) -> Stage:
        found = _STAGE.fullmatch(text or "")
        if found is None:
            raise ValueError(f"not a reminder stage: {text[:40]!r}")
        if found["expiry"]:
            return cls(StageKind.EXPIRY, int(found["days"]) if found["days"] else None)
        if found["rotation"]:
            return cls(StageKind.ROTATION, weeks=int(found["weeks"] or 0))
        notice = found["notice"]
        if notice in ("end-ask", "end-due"):
            return cls(StageKind(notice))
        return cls(StageKind.FAILING if notice == "failing" else StageKind.RENEW_FAILED)

    @classmethod
    def expiry(cls, days: int | None) -> Stage:
        return cls(StageKind.EXPIRY, days)

    @classmethod
    def rotation(cls, weeks: int = 0) -> Stage:
        return cls(StageKind.ROTATION, weeks=weeks)

    def __str__(self) -> str:
        if self.kind is StageKind.EXPIRY:
            return "expiry-soon" if self.days is None else f"expiry-{self.days}d"
        if self.kind is StageKind.ROTATION:
            return "rotation-due" if self.weeks == 0 else f"rotation-overdue-{self.weeks}"
        return str(self.kind.value)
