"""The form's "what is this key for?" and "needed until" inputs (issue 19), and reading them
back from a submission."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_sdk.models.blocks import DatePickerElement, InputBlock, Option, StaticSelectElement

from bot.services.ending import EndDateError, end_of
from bot.services.outcomes import Intent
from bot.slack.ui import ids
from bot.slack.ui.text import LABEL_TEXT, OPTION_TEXT, clip, plain
from flows.purpose import Purpose


def intent_inputs(purpose: str = "read") -> list[InputBlock]:
    options = [Option(text=clip(f"{p.label} ({p.jobs})", OPTION_TEXT), value=str(p))
               for p in Purpose]
    chosen = Purpose.parse(purpose, Purpose.READ)
    initial = next(o for o in options if o.value == str(chosen))
    return [
        InputBlock(
            block_id=ids.PURPOSE_BLOCK, label=plain("What is this key for?", LABEL_TEXT),
            element=StaticSelectElement(action_id=ids.FIELD_VALUE, options=options,
                                        initial_option=initial),
            hint=plain("getkey checks the permissions this job needs.", LABEL_TEXT),
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
