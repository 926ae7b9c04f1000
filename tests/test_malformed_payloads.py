"""Malformed but signed Slack requests: every payload type with each documented field missing
or of the wrong type gets a 2xx or a 4xx, never a 5xx, and costs at most one log line above
INFO, never a traceback. Signed means it passed the edge's checks, so this is what a Slack bug,
a proxy or someone holding the signing secret could send."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.ui import ids

pytest_plugins = ("tests.bot_fixtures",)

MISSING = object()

# A value of some JSON type; the wrong one for the field is picked by filtering.
ANY_JSON = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=20), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def base_payloads(sender: Any) -> dict[str, dict[str, Any]]:
    common = sender._interaction_base("block_actions")
    actions = {
        **common,
        "container": {"type": "message", "message_ts": "1700000000.000100",
                      "channel_id": sender.channel_id, "is_ephemeral": True},
        "channel": {"id": sender.channel_id, "name": "general"},
        "response_url": sender.standin.response_url(),
        "message": {"ts": "1700000000.000100", "text": "x", "blocks": []},
        "state": {"values": {}},
        "actions": [{"action_id": ids.PICK_PLATFORM, "block_id": "b", "type": "static_select",
                     "selected_option": {"value": "wix", "text": {"type": "plain_text",
                                                                  "text": "Wix"}},
                     "action_ts": "1700000000.1"}],
    }
    view = {"id": "V0NOTHERE", "type": "modal", "callback_id": ids.FORM_VIEW, "hash": "1.x",
            "private_metadata": "", "state": {"values": {}}, "blocks": []}
    return {
        "block_actions": actions,
        "view_submission": {**sender._interaction_base("view_submission"), "view": view},
        "view_closed": {**sender._interaction_base("view_closed"), "view": view},
        "shortcut": {**sender._interaction_base("shortcut"), "callback_id": ids.ASK_SHORTCUT},
        "event_callback": {
            "token": "legacy-verification-token", "team_id": sender.team_id,
            "api_app_id": "A0GETKEY1", "type": "event_callback", "event_id": "Ev0MALFORMED",
            "event_time": 1700000000,
            "event": {"type": "app_home_opened", "user": sender.user_id, "channel": "D0X",
                      "tab": "home", "event_ts": "1700000000.1"},
            "authorizations": [{"team_id": sender.team_id, "user_id": "U0BOT", "is_bot": True}],
        },
    }


# The documented fields of each payload type, as paths into it.
FIELDS: dict[str, list[tuple[Any, ...]]] = {
    "block_actions": [
        ("type",), ("user",), ("user", "id"), ("team",), ("team", "id"), ("trigger_id",),
        ("response_url",), ("container",), ("channel",), ("channel", "id"), ("message",),
        ("state",), ("actions",), ("actions", 0), ("actions", 0, "action_id"),
        ("actions", 0, "block_id"), ("actions", 0, "selected_option"),
        ("actions", 0, "selected_option", "value"), ("api_app_id",),
    ],
    "view_submission": [
        ("type",), ("user",), ("user", "id"), ("team",), ("view",), ("view", "id"),
        ("view", "callback_id"), ("view", "private_metadata"), ("view", "state"),
        ("view", "state", "values"), ("view", "hash"), ("trigger_id",),
    ],
    "view_closed": [("type",), ("user",), ("user", "id"), ("view",), ("view", "callback_id")],
    "shortcut": [("type",), ("user",), ("user", "id"), ("team",), ("callback_id",),
                 ("trigger_id",)],
    "event_callback": [
        ("type",), ("team_id",), ("event",), ("event", "type"), ("event", "user"),
        ("event", "channel"), ("event", "tab"), ("authorizations",), ("event_id",),
        ("api_app_id",),
    ],
}
CASES = [(kind, path) for kind, paths in FIELDS.items() for path in paths]
COMMAND_FIELDS = ["command", "text", "user_id", "team_id", "channel_id", "response_url",
                  "trigger_id", "api_app_id"]


def mutated(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    if value is MISSING:
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value
    return out


def wrong_for(original: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(MISSING), ANY_JSON.filter(lambda v: type(v) is not type(original)))


def loud(bot: Any, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What this request logged above INFO, once its work after the ack has finished."""
    deadline = time.monotonic() + 30
    while bot.runtime.workers._in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    bot.on_loop(asyncio.sleep(0))  # the tasks' done-callbacks (failure lines) have run
    return [r for r in caplog.records if r.levelno > logging.INFO or r.exc_info]


@settings(max_examples=len(CASES) * 2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), data=st.data())
def test_signed_payloads_with_a_wrong_field_never_get_a_5xx(bot, caplog, case, data) -> None:
    kind, path = case
    base = base_payloads(bot.slack)[kind]
    original: Any = base
    for step in path:
        original = original[step]
    value = data.draw(wrong_for(original), label=f"{kind}.{'.'.join(map(str, path))}")
    body = mutated(base, path, value)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        if kind == "event_callback":
            reply = bot.slack.post(json.dumps(body), "application/json")
        else:
            reply = bot.slack.post_payload(body)
    assert reply.status < 500, (kind, path, value, reply.body[:200])
    noisy = loud(bot, caplog)
    assert len(noisy) <= 1 and not any(r.exc_info for r in noisy), [r.getMessage() for r in noisy]


@pytest.mark.parametrize("field", COMMAND_FIELDS)
def test_a_command_missing_a_field_never_gets_a_5xx(bot, caplog, field) -> None:
    fields = bot.slack.command_fields("list")
    fields.pop(field)
    with caplog.at_level(logging.INFO):
        reply = bot.slack.post_form(fields)
    assert reply.status < 500, (field, reply.body[:200])
    if field not in ("api_app_id", "text"):  # Slack always sends the others: refused
        assert 400 <= reply.status < 500, field
    assert len(loud(bot, caplog)) <= 1


def test_actions_that_is_not_a_list_is_a_4xx(bot) -> None:
    payload = base_payloads(bot.slack)["block_actions"]
    for actions in ({"action_id": ids.PICK_PLATFORM}, "x", 7, [7], [{"action_id": 7}]):
        reply = bot.slack.post_payload({**payload, "actions": actions})
        assert 400 <= reply.status < 500, (actions, reply.status, reply.body[:200])
