"""The one mapping from a verification outcome to words, shared by the Slack and the terminal
renderers.

flows/ says *what* went wrong (a Failure plus a platform-specific detail sentence); this module
says it to a person: a headline and the next step. The two surfaces differ only in formatting
and in how to try again or reach the guide, which a `Surface` supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flows.base import Failure, Flow, VerifyResult
from flows.purpose import Purpose


def escape(text: str) -> str:
    """Text from people or platforms must not become mrkdwn links or mentions."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Surface:
    """How one renderer formats the shared sentences."""

    retry: str  # how to try again, ends a sentence
    guide: str  # where the platform's guide is ({id} is the flow id)
    strong: Callable[[str], str]  # emphasise a name the platform gave (already quoted)
    quote: Callable[[str], str]  # make text from a platform safe to show


SLACK = Surface(
    retry="paste the key again below and press *Try again*",
    guide="the guide (`/getkey {id}`)",
    strong=lambda text: f"*{text}*",
    quote=escape,
)
TERMINAL = Surface(
    retry="run the same command again",
    guide="getkey guide {id}",
    strong=lambda text: text,
    quote=lambda text: text,
)


@dataclass(frozen=True)
class Wording:
    emoji: str  # Slack only
    headline: str
    next_step: str


# Placeholders: {platform} {id} {store} (" for <store>" or "") {wait} {retry} {guide}
FAILURES: dict[Failure, Wording] = {
    Failure.BAD_CREDENTIAL: Wording(
        ":no_entry:",
        "{platform} did not accept this key",
        "Copy the key again in full, or generate a new one (see {guide}), then {retry}.",
    ),
    Failure.WRONG_IDENTIFIER: Wording(
        ":mag:",
        "The key works, but not for the store or account you named",
        "Check that every ID you gave comes from the same account as the key, then {retry}.",
    ),
    Failure.MISSING_PERMISSION: Wording(
        ":lock:",
        "The key works{store}, but lacks a permission getkey needs",
        "Edit the key's permissions on {platform}, or create a new key with the permissions "
        "listed in {guide} ticked, then {retry}.",
    ),
    Failure.NO_API_ACCESS: Wording(
        ":no_entry_sign:",
        "This {platform} account or plan has no API access",
        "Switch to a plan that includes the API, or ask {platform} support to enable it; "
        "there is nothing to fix in the key.",
    ),
    Failure.RATE_LIMITED: Wording(
        ":hourglass:",
        "{platform} is limiting requests right now",
        "Wait {wait}, then {retry}.",
    ),
    Failure.UNREACHABLE: Wording(
        ":satellite_antenna:",
        "Could not reach {platform}",
        "This is usually temporary: check {platform}'s status page, then {retry} in a minute.",
    ),
    Failure.UNEXPECTED: Wording(
        ":grey_question:",
        "{platform} gave an answer getkey did not expect",
        "Check the store address and identifiers, then {retry}. If it keeps happening, report "
        "it (never include the key).",
    ),
    Failure.NOT_VERIFIABLE: Wording(
        ":information_source:",
        "{platform} has no API key to check",
        "Follow the guide instead: {guide}.",
    ),
}

NOTHING_STORED = "Nothing was stored. For your safety the key is not shown again: paste it anew."


def wording_for(failure: Failure | None) -> Wording:
    return FAILURES.get(failure or Failure.UNEXPECTED, FAILURES[Failure.UNEXPECTED])


def wait_words(seconds: float | None) -> str:
    if seconds is None:
        return "a minute"
    whole = int(seconds + 0.999)
    return f"{whole} second{'s' if whole != 1 else ''}"


def found_store(result: VerifyResult) -> str | None:
    """The store (or account) the key turned out to belong to, when the platform said."""
    return result.store_name or result.account or None


def failure_words(flow: Flow, result: VerifyResult, surface: Surface) -> tuple[str, str]:
    """(headline, next step) for a failed verification. The headline has no final full stop
    and is meant to be shown emphasised as a whole; the caller adds its own framing."""
    w = wording_for(result.failure)
    store = found_store(result)
    names = {
        "platform": flow.name,
        "id": flow.id,
        # The whole headline is emphasised already, so the store name is not marked again.
        "store": f" for {surface.quote(store)}" if store else "",
        "wait": wait_words(result.retry_after),
        "retry": surface.retry,
        "guide": surface.guide.format(id=flow.id),
    }
    # A flow's own words, for a store whose API is switched off or not at that address.
    headline = result.headline or w.headline.format(**names)
    next_step = (result.next_step or w.next_step).format(**names)
    return headline, next_step


def lacks_sentence(store: str | None, missing: Sequence[str], surface: Surface) -> str:
    """A verified key without every permission: say which store it works for, so the person
    knows they are at least in the right one."""
    where = f" for {surface.strong(surface.quote(store))}" if store else ""
    return (
        f"The key works{where}, but lacks {surface.quote(', '.join(missing))}. Tasks that need "
        "these will fail: regenerate the key with them ticked."
    )


def problem_text(flow: Flow, result: VerifyResult) -> str:
    """mrkdwn shown at the top of a re-rendered form. `result.detail` is written by the flow
    to be safe to show (no secret, no raw response)."""
    headline, next_step = failure_words(flow, result, SLACK)
    lines = [f"{wording_for(result.failure).emoji} *{headline}*"]
    if result.detail:
        lines.append(result.detail)
    if result.field:
        try:
            lines.append(f"Check: *{flow.field(result.field).label}*.")
        except KeyError:
            pass
    lines.append(next_step)
    lines.append(f"_{NOTHING_STORED}_")
    return "\n".join(lines)


def day_words(until: datetime | None) -> str:
    """A "needed until" day as it was picked (its own calendar day, in any time zone)."""
    return f"{until:%A} {until.day} {until:%B %Y}" if until else "no end date"


def job_words(purpose: Purpose, until: datetime | None) -> str:
    """"read and write (import, sync in, integration), needed until Friday 1 January 2027":
    what a request fixed, on every surface."""
    words = f"{purpose.label.lower()} ({purpose.jobs})"
    return words + (f", needed until {day_words(until)}" if until else "")
