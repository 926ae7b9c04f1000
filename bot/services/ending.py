"""The end of a key's job: "still needed?" answered with Extend or Done, or its end date passed.

getkey forgets its copy (audited; credential.deleted to webhooks and the change feed, written in
the same transaction by the store). Telling people, and the platform's revocation steps, are
the surfaces' part (bot.jobs.handback).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.services.credentials import (
    SYSTEM_ACTOR,
    ActionOutcome,
    Actor,
    CredentialService,
    Done,
    Gone,
)

# How far ahead a "needed until" date may be; further is a typo or no end at all.
LONGEST = timedelta(days=3 * 366)
DONE_NOTE = "done"
ENDED_NOTE = "needed-until date reached"


class EndDateError(ValueError):
    """A "needed until" date that cannot be used; the message says why."""


def end_of(day: date | str | None, today: date) -> datetime | None:
    """The moment a "needed until" day ends (its last second, UTC), checked: None for no
    date; EndDateError for a day in the past or implausibly far."""
    if day in (None, ""):
        return None
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            raise EndDateError("Give the date as YYYY-MM-DD, or pick it in the calendar.") from None
    if day < today:
        raise EndDateError("That date has passed: pick today or a later day.")
    if day - today > LONGEST:
        raise EndDateError("Pick a date within three years, or leave it empty for no end.")
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


class Ending:
    def __init__(self, credentials: CredentialService) -> None:
        self.credentials = credentials
        self.store = credentials.store

    def finish(self, credential_id: str, actor: Actor | None, note: str) -> ActionOutcome:
        """Forget the key. `actor` None: getkey itself, at the end date."""
        if actor is None:
            info = self.store.get(credential_id)
            if info is None or not self.store.delete(
                credential_id, actor=SYSTEM_ACTOR, note=note
            ):
                return Gone()
            return Done(info)
        found = self.credentials.owned(credential_id, actor)
        if isinstance(found, Done) and not self.store.delete(
            credential_id, actor=actor.audit, note=note
        ):
            return Gone()
        return found

    def extend(self, credential_id: str, actor: Actor, day: date | str) -> ActionOutcome:
        """Still needed until `day`: asked again three days before it."""
        until = end_of(day, self.credentials.now().date())
        if until is None:
            raise EndDateError("Pick the new date.")
        found = self.credentials.owned(credential_id, actor)
        if not isinstance(found, Done):
            return found
        return Done(self.store.set_needed_until(credential_id, until, actor=actor.audit))
