"""manifest.json: valid against Slack's published schema, and consistent with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[1]
# Slack's manifest schema (MIT, slackapi/manifest-schema), vendored with its licence so a fresh
# clone needs nothing outside the repository.
SCHEMA = Path(__file__).resolve().parent / "schemas" / "slack-manifest.schema.1.0.0.json"

# Web API method → the bot scope it needs (only the methods getkey calls).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "usergroups.users.list": "usergroups:read",
    "usergroups.list": "usergroups:read",
    "views.open": None,
    "views.update": None,
    "views.publish": None,
    "auth.test": None,
}


def manifest() -> dict:
    return json.loads((REPO / "manifest.json").read_text())


def test_manifest_is_valid_against_slacks_schema():
    schema = json.loads(SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(manifest()), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_check_is_not_vacuous():
    schema = json.loads(SCHEMA.read_text())
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "getkey"  # no leading slash
    broken["display_information"]["name"] = "x" * 40
    assert len(list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))) >= 2


def test_every_slack_request_goes_to_one_endpoint():
    m = manifest()
    urls = [c["url"] for c in m["features"]["slash_commands"]]
    urls += [m["settings"]["event_subscriptions"]["request_url"]]
    urls += [m["settings"]["interactivity"]["request_url"]]
    assert all(u.endswith("/slack/events") for u in urls)
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_command_home_and_events_match_the_code():
    m = manifest()
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/getkey"]
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["features"]["app_home"]["messages_tab_enabled"] is True
    source = "\n".join(p.read_text() for p in (REPO / "bot").rglob("*.py"))
    assert 'app.command("/getkey")' in source
    for event in m["settings"]["event_subscriptions"]["bot_events"]:
        assert f'app.event("{event}")' in source, f"no listener for subscribed event {event}"


def test_bot_scopes_are_exactly_the_ones_needed():
    source = "\n".join(p.read_text() for p in (REPO / "bot").rglob("*.py"))
    called = set()
    for method in METHOD_SCOPES:
        snake = method.replace(".", "_")
        if re.search(rf"\b{re.escape(snake)}\(|[\"']{re.escape(method)}[\"']", source):
            called.add(method)
    needed = {"commands"} | {METHOD_SCOPES[m] for m in called if METHOD_SCOPES[m]}
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_schema_is_vendored_inside_the_repository_with_its_licence():
    assert SCHEMA.is_file() and REPO in SCHEMA.parents
    licence = (SCHEMA.parent / "LICENSE").read_text()
    assert "MIT License" in licence and "Slack Technologies" in licence


def test_shortcuts_match_the_code():
    from bot.slack.ui import ids

    shortcuts = manifest()["features"]["shortcuts"]
    assert [(s["type"], s["callback_id"]) for s in shortcuts] == [("message", ids.ASK_SHORTCUT)]
    source = (REPO / "bot" / "slack" / "listeners" / "requests.py").read_text()
    assert "app.shortcut(ids.ASK_SHORTCUT)" in source
