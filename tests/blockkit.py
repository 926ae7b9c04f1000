"""Checks of Block Kit payloads that slack_sdk does not make (shared/slack-notes.md), run over
everything the tests see: the Slack stand-in validates every message and view it receives.
Test-only: the bot builds from slack_sdk.models and never runs these in production.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.ui.text import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    FIELD_TEXT,
    HEADER_TEXT,
    ID_LENGTH,
    INPUT_MAX,
    MESSAGE_BLOCKS,
    METADATA,
    OPTION_TEXT,
    OPTION_VALUE,
    SECTION_TEXT,
    SELECT_OPTIONS,
    VIEW_BLOCKS,
    VIEW_BYTES,
)

# Slack's checkbox group holds at most 10 options.
CHECKBOX_OPTIONS = 10


class BlockKitError(ValueError):
    pass


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _element_problems(where: str, element: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = element.get("type")
    if kind == "plain_text_input":
        max_length = element.get("max_length")
        if max_length is not None and not 1 <= max_length <= INPUT_MAX:
            problems.append(f"{where}: plain_text_input max_length must be 1–{INPUT_MAX}")
        min_length = element.get("min_length")
        if min_length is not None and not 0 <= min_length <= INPUT_MAX:
            problems.append(f"{where}: plain_text_input min_length must be 0–{INPUT_MAX}")
        initial = element.get("initial_value")
        if initial is not None and len(initial) > (max_length or INPUT_MAX):
            problems.append(f"{where}: initial_value longer than max_length")
    if kind in ("static_select", "checkboxes"):
        most = SELECT_OPTIONS if kind == "static_select" else CHECKBOX_OPTIONS
        options = element.get("options") or []
        if not 1 <= len(options) <= most:
            problems.append(f"{where}: {kind} needs 1–{most} options")
        for opt in options:
            if len(opt.get("text", {}).get("text", "")) > OPTION_TEXT:
                problems.append(f"{where}: option text over {OPTION_TEXT}")
            if len((opt.get("description") or {}).get("text", "")) > OPTION_TEXT:
                problems.append(f"{where}: option description over {OPTION_TEXT}")
            if len(opt.get("value", "")) > OPTION_VALUE:
                problems.append(f"{where}: option value over {OPTION_VALUE}")
        values = {opt.get("value") for opt in options}
        initial = element.get("initial_options") or (
            [element["initial_option"]] if element.get("initial_option") else []
        )
        if any(opt.get("value") not in values for opt in initial):
            problems.append(f"{where}: an initial option is not among the options")
    if kind == "button":
        if len(element.get("text", {}).get("text", "")) > BUTTON_TEXT:
            problems.append(f"{where}: button text over {BUTTON_TEXT}")
        if len(element.get("value", "")) > BUTTON_VALUE:
            problems.append(f"{where}: button value over {BUTTON_VALUE}")
    action_id = element.get("action_id")
    if action_id is not None and len(action_id) > ID_LENGTH:
        problems.append(f"{where}: action_id over {ID_LENGTH}")
    return problems


def block_problems(blocks: Sequence[Any], *, surface: str = "message") -> list[str]:
    """Everything wrong with a list of blocks for `surface` ("message", "modal", "home")."""
    problems: list[str] = []
    limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks; a {surface} allows {limit}")
    seen_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"block {i}"
        try:
            parsed = Block.parse(_as_dict(raw))
            if parsed is None:
                problems.append(f"{where}: unknown block type")
                continue
            block = parsed.to_dict()  # runs slack_sdk's own validators
        except Exception as exc:
            problems.append(f"{where}: {exc}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
            if len(block_id) > ID_LENGTH:
                problems.append(f"{where}: block_id over {ID_LENGTH}")
        kind = block.get("type")
        if kind == "input" and surface == "message":
            problems.append(f"{where}: input blocks belong in modals")
        if kind == "section":
            text = (block.get("text") or {}).get("text", "")
            if len(text) > SECTION_TEXT:
                problems.append(f"{where}: section text over {SECTION_TEXT}")
            for f in block.get("fields") or []:
                if len(f.get("text", "")) > FIELD_TEXT:
                    problems.append(f"{where}: section field over {FIELD_TEXT}")
        if kind == "header" and len(block.get("text", {}).get("text", "")) > HEADER_TEXT:
            problems.append(f"{where}: header over {HEADER_TEXT}")
        elements: list[Mapping[str, Any]] = []
        if kind == "actions":
            elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        if kind == "input" and block.get("element"):
            elements.append(block["element"])
        action_ids = [e.get("action_id") for e in elements if e.get("action_id")]
        if len(action_ids) != len(set(action_ids)):
            problems.append(f"{where}: duplicate action_id in one block")
        for element in elements:
            problems += _element_problems(where, element)
    return problems


def validate_blocks(blocks: Sequence[Any], *, surface: str = "message") -> list[dict[str, Any]]:
    problems = block_problems(blocks, surface=surface)
    if problems:
        raise BlockKitError("; ".join(problems))
    return [_as_dict(b) for b in blocks]


def validate_view(view: Any) -> dict[str, Any]:
    """Parse with slack_sdk (title/submit/close/metadata limits) and check the rest."""
    data = _as_dict(view)
    problems: list[str] = []
    try:
        parsed = View(**data).to_dict()
    except Exception as exc:
        raise BlockKitError(f"slack_sdk rejects the view: {exc}") from None
    surface = parsed.get("type", "modal")
    blocks = parsed.get("blocks") or []
    problems += block_problems(blocks, surface=surface)
    has_input = any(b.get("type") == "input" for b in blocks)
    if surface == "modal" and has_input and not parsed.get("submit"):
        problems.append("a modal with input blocks needs a submit button")
    if len(parsed.get("private_metadata") or "") > METADATA:
        problems.append(f"private_metadata over {METADATA}")
    size = len(json.dumps(parsed).encode())
    if size > VIEW_BYTES:
        problems.append(f"view is {size} bytes; the limit is {VIEW_BYTES}")
    if problems:
        raise BlockKitError("; ".join(problems))
    return parsed
