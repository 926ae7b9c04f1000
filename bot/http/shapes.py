"""The shape of each signed Slack payload, checked before Bolt or a listener reads it.

A signed request is Slack's (or holds the signing secret), but a field of the wrong type must
still be a clear 400 naming the field, not a 500 from deep inside Bolt (`actions` that is not
a list, a `view` that is null). Only the fields Bolt and the listeners read are described;
anything else passes through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A spec is a type (or tuple of types), a Fields mapping for an object, or a one-element list
# [spec] for a list whose every item matches spec. None in a tuple allows null.
Fields = Mapping[str, tuple[Any, bool]]  # name -> (spec, required)

NONE = type(None)
ID = {"id": (str, True)}
OPTIONAL_ID = {"id": (str, False)}
VIEW: Fields = {
    "id": (str, True),
    "callback_id": (str, True),
    "private_metadata": (str, False),
    "hash": (str, False),
    "state": ({"values": (dict, False)}, False),
}
INTERACTION: Fields = {
    "user": (ID, True),
    "team": ((OPTIONAL_ID, NONE), False),
    "enterprise": ((OPTIONAL_ID, NONE), False),
    "trigger_id": (str, False),
    "response_url": (str, False),
    "api_app_id": (str, False),
    "channel": ((OPTIONAL_ID, NONE), False),
    "container": (dict, False),
    "message": (dict, False),
}
ACTION: Fields = {
    "action_id": (str, True),
    "block_id": (str, False),
    "value": ((str, NONE), False),
    "selected_option": (({"value": (str, False)}, NONE), False),
}
PAYLOADS: dict[str, Fields] = {
    "block_actions": {
        **INTERACTION,
        "actions": ([ACTION], True),
        "state": ({"values": (dict, False)}, False),
        # The surface the button is on (a modal, or the Home tab, which has no callback_id).
        "view": (({k: (spec, False) for k, (spec, _) in VIEW.items()}, NONE), False),
    },
    "view_submission": {**INTERACTION, "view": (VIEW, True)},
    "view_closed": {**INTERACTION, "view": (VIEW, True)},
    "shortcut": {**INTERACTION, "callback_id": (str, True)},
    "message_action": {**INTERACTION, "callback_id": (str, True)},
    "block_suggestion": {**INTERACTION, "action_id": (str, True), "value": (str, False)},
    "event_callback": {
        "team_id": (str, False),
        "api_app_id": (str, False),
        "event_id": (str, False),
        "authorizations": ([dict], False),
        "event": (
            {
                "type": (str, True),
                "user": ((str, dict), False),  # user_change carries the whole user
                "channel": ((str, dict), False),
                "tab": (str, False),
            },
            True,
        ),
    },
    "url_verification": {"challenge": (str, True)},
}


# Slash commands are form fields (always text): Slack sends all of these.
COMMAND: Fields = {
    name: (str, True)
    for name in ("command", "user_id", "team_id", "channel_id", "response_url", "trigger_id")
}


def problem(body: Mapping[str, Any]) -> str | None:
    """What is wrong with a parsed Slack body, in words naming the field; None if nothing."""
    if "type" not in body and ("command" in body or "response_url" in body):
        return _fields(body, COMMAND, "")
    kind = body.get("type")
    if not isinstance(kind, str):
        return "type is missing or not text"
    fields = PAYLOADS.get(kind)
    return _fields(body, fields, "") if fields is not None else None


def _fields(value: Mapping[str, Any], fields: Fields, where: str) -> str | None:
    for name, (spec, required) in fields.items():
        if name not in value:
            if required:
                return f"{where}{name} is missing"
            continue
        found = _match(value[name], spec, f"{where}{name}")
        if found:
            return found
    return None


def _match(value: Any, spec: Any, where: str) -> str | None:
    options = spec if isinstance(spec, tuple) else (spec,)
    reasons = []
    for option in options:
        reason = _one(value, option, where)
        if reason is None:
            return None
        reasons.append(reason)
    return reasons[0]


def _one(value: Any, spec: Any, where: str) -> str | None:
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where} is not a list"
        for n, item in enumerate(value):
            found = _match(item, spec[0], f"{where}[{n}]")
            if found:
                return found
        return None
    if isinstance(spec, Mapping):
        if not isinstance(value, dict):
            return f"{where} is not an object"
        return _fields(value, spec, where + ".")
    if spec is not bool and isinstance(value, bool):
        return f"{where} has the wrong type"  # True is an int to Python, not to Slack
    return None if isinstance(value, spec) else f"{where} has the wrong type"
