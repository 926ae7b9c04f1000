"""The one mapping from a verification failure to Slack wording.

flows/ says *what* went wrong (a Failure plus a platform-specific detail sentence); this module
says it the Slack way: a headline, the detail, and what to do next in this form.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.base import Failure, Flow, VerifyResult


@dataclass(frozen=True)
class Wording:
    emoji: str
    headline: str
    next_step: str


FAILURES: dict[Failure, Wording] = {
    Failure.BAD_CREDENTIAL: Wording(
        ":no_entry:",
        "{platform} did not accept this key",
        "Copy the key again (or generate a new one), paste it below and press *Try again*.",
    ),
    Failure.WRONG_IDENTIFIER: Wording(
        ":mag:",
        "The key works, but not with these details",
        "Fix the field named above, paste the key again and press *Try again*.",
    ),
    Failure.MISSING_PERMISSION: Wording(
        ":lock:",
        "The key is missing a permission getkey needs",
        "Edit the key's permissions on {platform} (or create a new key with them ticked), "
        "then paste it below.",
    ),
    Failure.NO_API_ACCESS: Wording(
        ":no_entry_sign:",
        "This {platform} account cannot use the API",
        "The plan or account type has no API access. Upgrade or ask {platform} support; "
        "there is nothing to fix in this form.",
    ),
    Failure.RATE_LIMITED: Wording(
        ":hourglass:",
        "{platform} asked us to slow down",
        "Wait as long as it says, then paste the key again and press *Try again*.",
    ),
    Failure.UNREACHABLE: Wording(
        ":satellite_antenna:",
        "Could not reach {platform}",
        "This is usually temporary: paste the key again and press *Try again* in a minute.",
    ),
    Failure.UNEXPECTED: Wording(
        ":grey_question:",
        "{platform} gave an answer getkey did not expect",
        "Check the store address or identifiers, paste the key again and press *Try again*.",
    ),
    Failure.NOT_VERIFIABLE: Wording(
        ":information_source:",
        "{platform} has no API key to check",
        "Follow the guide: there is nothing to paste for this platform.",
    ),
}

NOTHING_STORED = "Nothing was stored. For your safety the key is not shown again: paste it anew."


def wording_for(failure: Failure | None) -> Wording:
    return FAILURES.get(failure or Failure.UNEXPECTED, FAILURES[Failure.UNEXPECTED])


def problem_text(flow: Flow, result: VerifyResult) -> str:
    """mrkdwn shown at the top of a re-rendered form. `result.detail` is written by the flow
    to be safe to show (no secret, no raw response)."""
    w = wording_for(result.failure)
    lines = [f"{w.emoji} *{w.headline.format(platform=flow.name)}*"]
    if result.detail:
        lines.append(result.detail)
    if result.field:
        try:
            lines.append(f"Check: *{flow.field(result.field).label}*.")
        except KeyError:
            pass
    lines.append(w.next_step.format(platform=flow.name))
    lines.append(f"_{NOTHING_STORED}_")
    return "\n".join(lines)
