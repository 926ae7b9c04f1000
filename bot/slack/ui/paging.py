"""Previous/Next and search for every surface that lists keys (/getkey list, the Home tab, the
admin view), as plain dicts. A page's state travels in its buttons' values and the view's
private_metadata: the searched words (never a secret) and the offset."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.slack.ui.text import BUTTON_VALUE, INPUT_MAX, METADATA, escape
from bot.store.listing import Page

# Keys per page: each /getkey list row is 1 block (50 in a message, requests follow), each
# Home row 3 and each admin row 2 (100 in a Home view, with requests and provided keys after).
LIST_PAGE = 20
HOME_PAGE = 20
ADMIN_PAGE = 30
QUERY_MAX = 100


def state(query: str, offset: int) -> str:
    return json.dumps({"q": query[:QUERY_MAX], "o": max(0, offset)})[:METADATA]


def read_state(raw: object) -> tuple[str, int]:
    """(query, offset) from a button value or private_metadata; anything odd is page one."""
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        return "", 0
    query, offset = data.get("q"), data.get("o")
    return (
        query[:QUERY_MAX] if isinstance(query, str) else "",
        offset if isinstance(offset, int) and offset >= 0 else 0,
    )


def _button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value[:BUTTON_VALUE],
    }


def summary(page: Page, query: str, noun: str = "key") -> str:
    """mrkdwn: which of how many are shown, and for which words."""
    searched = f" matching “{escape(query)}”" if query else ""
    if not page.total:
        return f"No {noun}{searched}."
    plural = noun if page.total == 1 else noun + "s"
    if not page.has_more and not page.has_previous:
        return f"All {page.total} {plural}{searched}."
    first, last = page.offset + 1, page.offset + len(page.infos)
    return f"{first}–{last} of {page.total} {plural}{searched}."


def nav_blocks(page: Page, query: str, action_id: str, block_id: str) -> list[dict[str, Any]]:
    """Previous/Next buttons (with a Clear search button when words were searched); nothing
    when there is a single page and no search."""
    size = max(1, len(page.infos))
    buttons: list[dict[str, Any]] = []
    if page.has_previous:
        back = max(0, page.offset - size) if page.infos else max(0, page.total - size)
        buttons.append(_button("‹ Previous", action_id + ".prev", state(query, back)))
    if page.has_more:
        buttons.append(_button("Next ›", action_id + ".next", state(query, page.offset + size)))
    if query:
        buttons.append(_button("Show all", action_id + ".all", state("", 0)))
    if not buttons:
        return []
    return [{"type": "actions", "block_id": block_id, "elements": buttons}]


def search_block(action_id: str, block_id: str, query: str) -> dict[str, Any]:
    """A search field for a Home view: Enter sends the words (block_actions)."""
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "max_length": min(QUERY_MAX, INPUT_MAX),
        "placeholder": {"type": "plain_text", "text": "Platform, store or status, then Enter"},
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
    }
    if query:
        element["initial_value"] = query
    # Slack keeps what was typed in a field whose block_id it has seen: a new id per query
    # makes the shown words follow the search (Show all empties it).
    tag = hashlib.sha256(query.encode()).hexdigest()[:8]
    return {
        "type": "input",
        "block_id": f"{block_id}.{tag}",
        "dispatch_action": True,
        "optional": True,
        "label": {"type": "plain_text", "text": "Find a key", "emoji": True},
        "element": element,
    }
