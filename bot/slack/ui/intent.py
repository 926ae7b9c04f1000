"""The form's "what is this key for?" and "needed until" inputs (issue 19), reading them back
from a submission, the words a request fixes them with (`for:write until:2027-01-31` before
the note), and the line that shows them fixed when a request chose them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    Option,
    StaticSelectElement,
)

from bot.services.ending import EndDateError, end_of
from bot.services.outcomes import Intent
from bot.slack.ui import ids
from bot.slack.ui.text import LABEL_TEXT, OPTION_TEXT, clip, md, plain
from bot.wording import job_words
from flows.purpose import Purpose

# Leading words of a request's note that fix the purpose or the end date. Only a known
# purpose word or a date-shaped value counts: any other note reads as it always did.
_FOR = re.compile(r"for:(\S+)", re.I)
_UNTIL = re.compile(r"until:(\d{4}-\d{1,2}-\d{1,2})", re.I)



def intent_inputs(purpose: str | None = "read", *, hint: str | None = None) -> list[InputBlock]:
    options = [Option(text=clip(f"{p.label} ({p.jobs})", OPTION_TEXT), value=str(p))
               for p in Purpose]
    chosen = Purpose.parse(purpose, Purpose.READ)
    initial = next(o for o in options if o.value == str(chosen))
    return [
        InputBlock(
            block_id=ids.PURPOSE_BLOCK, label=plain("What is this key for?", LABEL_TEXT),
            element=StaticSelectElement(action_id=ids.FIELD_VALUE, options=options,
                                        initial_option=initial),
            hint=plain(hint or "getkey checks the permissions this job needs.", LABEL_TEXT),
            optional=True,  # starts on the workspace's default; nothing chosen reads as read
        ),
        InputBlock(
            block_id=ids.NEEDED_UNTIL_BLOCK, label=plain("Needed until", LABEL_TEXT),
            element=DatePickerElement(action_id=ids.FIELD_VALUE, placeholder="No end date"),
            hint=plain("For one job: no rotation reminders; getkey asks 3 days before, then "
                       "forgets the key and sends the steps to revoke it.", LABEL_TEXT),
            optional=True,
        ),
    ]  # fmt: skip


def intent_words(intent: Intent) -> str:
    return job_words(intent.purpose, intent.needed_until)


def fixed_block(intent: Intent) -> ContextBlock:
    """A request's purpose and end date in its form: shown, not chosen."""
    return ContextBlock(
        block_id=ids.PURPOSE_FIXED_BLOCK,
        elements=[md(f"*For:* {intent_words(intent)}. Set by whoever asked; getkey checks the "
                     "permissions this job needs.")],
    )


def _element(state: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    block = state.get(block_id)
    element = block.get(ids.FIELD_VALUE) if isinstance(block, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def read_intent(state: Mapping[str, Any], today: date) -> Intent | str:
    """The purpose and end date submitted, or the sentence saying why the date is refused."""
    chosen = _element(state, ids.PURPOSE_BLOCK).get("selected_option")
    value = str(chosen.get("value") or "") if isinstance(chosen, Mapping) else ""
    purpose = Purpose.parse(value, Purpose.READ)
    try:
        until = end_of(str(_element(state, ids.NEEDED_UNTIL_BLOCK).get("selected_date") or ""),
                       today)
    except EndDateError as exc:
        return str(exc)
    return Intent(purpose, until)


def intent_from_words(note: str, today: date, default: str | None) -> tuple[Intent, str] | str:
    """(what the request fixes, the rest of the note) from a command's note, whose leading
    `for:<purpose>` / `until:<date>` words fix them (else the workspace's `default` purpose,
    no end date); or the sentence saying why the date is refused."""
    purpose, until, rest = Purpose.parse(default, Purpose.READ), None, note.strip()
    while rest:
        head, *tail = rest.split(maxsplit=1)
        said_for, said_until = _FOR.fullmatch(head), _UNTIL.fullmatch(head)
        if said_for and _purpose(said_for.group(1)) is not None:
            purpose = _purpose(said_for.group(1)) or purpose
        elif said_until:
            try:
                until = end_of(_iso(said_until.group(1)), today)
            except EndDateError as exc:
                return str(exc)
        else:
            break
        rest = tail[0] if tail else ""
    return Intent(purpose, until), rest


def _purpose(word: str) -> Purpose | None:
    try:
        return Purpose.parse(word)
    except ValueError:
        return None


def _iso(day: str) -> str:
    """2027-1-5 → 2027-01-05 (date.fromisoformat wants two digits)."""
    year, month, dom = day.split("-")
    return f"{year}-{int(month):02d}-{int(dom):02d}"


def fixed_meta(intent: Intent | None) -> dict[str, str | None] | None:
    """A request's fixed purpose and end date for the form's private_metadata (so a form shown
    again after a failure still shows them)."""
    if intent is None:
        return None
    until = intent.needed_until.date().isoformat() if intent.needed_until else None
    return {"purpose": str(intent.purpose), "until": until}


def fixed_from_meta(meta: Mapping[str, Any]) -> Intent | None:
    fixed = meta.get("fixed")
    if not isinstance(fixed, Mapping):
        return None
    until = fixed.get("until")
    when = (datetime.combine(date.fromisoformat(str(until)), time(23, 59), tzinfo=UTC)
            if until else None)
    return Intent(Purpose.parse(str(fixed.get("purpose") or ""), Purpose.READ), when)
