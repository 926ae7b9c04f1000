"""Block Kit builders over every platform, and the checks slack_sdk does not make."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot import wording
from bot.slack.ui import form, ids, messages, modals, text
from bot.store.listing import Page
from flows import catalog
from flows.base import Failure, VerifyResult
from tests.blockkit import BlockKitError, validate_blocks, validate_view
from tests.slack_standin import find_element

FLOWS = catalog.all_flows()


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.id)
def test_every_platform_guide_and_form_fit_slack(flow):
    validate_blocks(messages.guide_blocks(flow), surface="message")
    meta = form.metadata(flow.id, credential_id="c" * 36, channel="C0123456789")
    shown = validate_view(form.form_view(flow, private_metadata=meta))
    inputs = [b for b in shown["blocks"] if b["type"] == "input"]
    # The flow's fields, then (for a key that can be stored) how often to rotate it, then
    # (for a token getkey could renew) the owner's opt-in.
    assert [b["block_id"] for b in inputs] == [
        *(ids.field_block(f.key) for f in flow.fields),
        *([ids.PURPOSE_BLOCK, ids.NEEDED_UNTIL_BLOCK, ids.ROTATION_BLOCK]
          if flow.verifiable else []),
        *([ids.AUTO_RENEW_BLOCK] if flow.renewal_consent else []),
    ]
    for f, block in zip(flow.fields, inputs[: len(flow.fields)], strict=True):
        assert block["element"]["type"] == ("static_select" if f.choices else "plain_text_input")
        assert block.get("optional", False) is (not f.required)
    validate_view(modals.verifying_view(flow, meta))


@pytest.mark.parametrize("flow", [f for f in FLOWS if f.fields], ids=lambda f: f.id)
def test_a_re_rendered_form_never_carries_a_secret(flow):
    values = {f.key: (f.choices[0][0] if f.choices else f"value-of-{f.key}") for f in flow.fields}
    problem = VerifyResult.failed(Failure.BAD_CREDENTIAL, "Rejected.", field=flow.fields[0].key)
    public = {f.key: values[f.key] for f in flow.public_fields}
    view = validate_view(
        form.form_view(flow, private_metadata=form.metadata(flow.id), values=public,
                         problem=problem)
    )
    text = json.dumps(view)
    for f in flow.secret_fields:
        assert f"value-of-{f.key}" not in text
    for f in flow.public_fields:
        if not f.choices:
            assert f"value-of-{f.key}" in text  # identifiers are kept, so only the key is re-typed
    assert view["blocks"][0]["block_id"] == ids.PROBLEM_BLOCK


def test_every_failure_has_wording():
    flow = catalog.get("wix")
    for failure in Failure:
        assert failure in wording.FAILURES
        text = wording.problem_text(flow, VerifyResult.failed(failure, "Detail sentence."))
        assert "Detail sentence." in text and "Nothing was stored" in text
        assert "{platform}" not in text


def _info(**changes):
    from bot.store.repository import CredentialInfo

    now = datetime(2030, 1, 2, tzinfo=UTC)
    base = CredentialInfo(
        id="0b8e2c1e-0000-4000-8000-000000000001", team_id="T1", user_id="U1", platform="wix",
        identity="acct", store_name="Shop <b>&", identifiers={}, masked="••••••ab12",
        status="verified", verified_at=now, last_checked_at=now, detail="",
        expires_at=now + timedelta(days=30), rotation_days=180,
        rotation_due_at=now + timedelta(days=180), next_reminder_at=now + timedelta(days=16),
        created_at=now, rotated_at=None, reminders_stopped=False, snoozed_until=None,
    )
    return base.model_copy(update=changes)


def test_list_fits_the_message_limit_however_many_keys():
    infos = [_info(id=f"id-{n}") for n in range(80)]
    page = Page(infos[20:40], offset=20, total=80)
    shown = validate_blocks(messages.list_blocks(page))
    assert len(shown) <= text.MESSAGE_BLOCKS
    assert "21–40 of 80 keys" in json.dumps(shown, ensure_ascii=False)
    assert "*21. Wix*" in json.dumps(shown)  # numbered as in the whole list
    _, back = find_element(shown, ids.LIST_PAGE + ".prev")
    _, ahead = find_element(shown, ids.LIST_PAGE + ".next")
    assert json.loads(back["value"])["o"] == 0 and json.loads(ahead["value"])["o"] == 40
    rows = [b["text"]["text"] for b in shown if b["type"] == "section"]
    assert rows and all("Shop &lt;b&gt;" in r and "<b>" not in r for r in rows)  # escaped


def test_result_view_and_dm_show_only_the_masked_value():
    flow = catalog.get("wix")
    result = VerifyResult(ok=True, store_name="Shop", granted=("a",), missing=("orders",))
    view = validate_view(modals.result_view(flow, _info(), result, replaced=True))
    text = json.dumps(view, ensure_ascii=False)
    assert "••••••ab12" in text and "lacks orders" in text and "replaced" in text
    validate_blocks(messages.dm_blocks(flow, _info(), result, replaced=False))


def test_validator_catches_what_slack_sdk_does_not():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "block_id": "same"}
    with pytest.raises(BlockKitError, match="duplicate block_id"):
        validate_blocks([section, dict(section)])
    many = [SectionBlock(text="x").to_dict() for _ in range(51)]
    with pytest.raises(BlockKitError, match="51 blocks"):
        validate_blocks(many)
    validate_blocks(many[:50])
    validate_blocks(many[:51] + many[:49], surface="modal")  # 100 is fine in a modal

    field_input = {
        "type": "input", "block_id": "i", "label": {"type": "plain_text", "text": "L"},
        "element": {"type": "plain_text_input", "action_id": "v", "max_length": 5000},
    }
    with pytest.raises(BlockKitError, match="max_length"):
        validate_view({"type": "modal", "title": {"type": "plain_text", "text": "T"},
                       "submit": {"type": "plain_text", "text": "OK"}, "blocks": [field_input]})
    ok_input = {**field_input, "element": {"type": "plain_text_input", "action_id": "v"}}
    with pytest.raises(BlockKitError, match="submit"):
        validate_view({"type": "modal", "title": {"type": "plain_text", "text": "T"},
                       "blocks": [ok_input]})
    with pytest.raises(BlockKitError, match="input blocks belong in modals"):
        validate_blocks([ok_input])
    with pytest.raises(BlockKitError):
        validate_view({"type": "modal", "title": {"type": "plain_text", "text": "T" * 25},
                       "blocks": [section]})
    huge = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900}}] * 95
    with pytest.raises(BlockKitError, match="bytes"):
        validate_view({"type": "modal", "title": {"type": "plain_text", "text": "T"},
                       "blocks": huge})


def test_long_titles_are_clipped_to_slacks_limit():
    flow = catalog.get("lightspeed-ecom")
    view = validate_view(form.form_view(flow, private_metadata="{}"))
    assert len(view["title"]["text"]) <= text.TITLE_TEXT


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30", 30), ("365", 365), ("default", None), ("0", None), ("99999", None), ("-5", None),
     ("abc", None), (None, None)],
)
def test_a_submitted_rotation_period_is_read_safely(value, expected):
    # A forged or stale submission can carry anything in the select's value.
    option = {"value": value} if value is not None else None
    state = {
        ids.ROTATION_BLOCK: {ids.FIELD_VALUE: {"type": "static_select", "selected_option": option}}
    }
    assert form.read_rotation(state) == expected


# -- the store named in a missing-permission result (issue 10) ----------------------------------
def test_a_key_missing_permissions_names_its_store_in_the_result_and_the_dm():
    flow = catalog.get("wix")
    result = VerifyResult(ok=True, store_name="Acme <Shop>", missing=("orders", "products"))
    info = _info(store_name="Acme <Shop>")
    view = json.dumps(validate_view(modals.result_view(flow, info, result, replaced=False)))
    dm = json.dumps(validate_blocks(messages.dm_blocks(flow, info, result, replaced=False)))
    for shown in (view, dm):
        # Escaped, so a store name cannot become a mention or a link.
        assert "works for *Acme &lt;Shop&gt;*, but lacks orders, products" in shown
    complete = VerifyResult(ok=True, store_name="Acme", granted=("orders",))
    assert "lacks" not in json.dumps(messages.dm_blocks(flow, info, complete, replaced=False))


def test_a_permission_failure_names_the_store_the_key_works_for():
    flow = catalog.get("bigcommerce")
    failed = VerifyResult.failed(Failure.MISSING_PERMISSION, "Lacks Orders.", store_name="Acme")
    shown = json.dumps(validate_view(form.form_view(flow, private_metadata="{}", problem=failed)))
    assert "The key works for Acme, but lacks a permission getkey needs" in shown
    unnamed = VerifyResult.failed(Failure.MISSING_PERMISSION, "Lacks Orders.")
    assert "The key works, but lacks" in wording.problem_text(flow, unnamed)


def test_slack_and_terminal_say_the_same_thing_about_every_failure():
    from bot.cli.render import render_result

    flow = catalog.get("wix")
    for failure in Failure:
        result = VerifyResult.failed(failure, "Detail sentence.", retry_after=30)
        slack = wording.problem_text(flow, result)
        terminal = render_result(flow, result)
        headline, _ = wording.failure_words(flow, result, wording.TERMINAL)
        assert headline in slack and f"Not verified: {headline}." in terminal
        assert "{" not in slack + terminal  # every placeholder filled
    limited = VerifyResult.failed(Failure.RATE_LIMITED, "Slow down.", retry_after=30)
    assert "Wait 30 seconds" in wording.problem_text(flow, limited)
    assert "Wait 30 seconds" in render_result(flow, limited)


# -- the renewal opt-in -------------------------------------------------------------------------
WARNING = "Renewing revokes the token any other tool holds; tick only if getkey is its only user."


def _renewable_flow():
    base = type(catalog.get("lightspeed-r"))
    return type("Renewable", (base,), {"renewal_consent": WARNING})()


def _renewal_block(view):
    return next((b for b in view["blocks"] if b.get("block_id") == ids.AUTO_RENEW_BLOCK), None)


def test_the_renewal_box_is_offered_only_with_its_warning_and_unticked():
    flow = _renewable_flow()
    view = validate_view(form.form_view(flow, private_metadata="{}"))
    block = _renewal_block(view)
    assert block is not None and block["optional"] is True
    assert block["element"]["type"] == "checkboxes"
    assert [o["text"]["text"] for o in block["element"]["options"]] == [
        "Let getkey renew this token automatically"
    ]
    assert block["hint"]["text"] == WARNING
    assert "initial_options" not in block["element"]  # off unless the person ticks it
    for plain_flow in FLOWS:  # a flow without a warning gets no box
        if not getattr(plain_flow, "renewal_consent", None):
            assert _renewal_block(form.form_view(plain_flow, private_metadata="{}")) is None


def test_the_renewal_box_keeps_its_state_when_the_form_is_shown_again():
    flow = _renewable_flow()
    failed = VerifyResult.failed(Failure.BAD_CREDENTIAL, "Rejected.")
    ticked = validate_view(
        form.form_view(flow, private_metadata="{}", problem=failed, auto_renew=True)
    )
    element = _renewal_block(ticked)["element"]
    assert [o["value"] for o in element["initial_options"]] == [ids.AUTO_RENEW_ON]
    unticked = validate_view(form.form_view(flow, private_metadata="{}", auto_renew=False))
    assert "initial_options" not in _renewal_block(unticked)["element"]


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ({"type": "checkboxes", "selected_options": [{"value": "on"}]}, True),
        ({"type": "checkboxes", "selected_options": []}, False),
        ({"type": "checkboxes", "selected_options": [{"value": "yes"}]}, False),
        ({"type": "checkboxes", "selected_options": "on"}, False),
        ({"type": "checkboxes"}, False),
        (None, False),
    ],
)
def test_a_submitted_renewal_choice_is_read_safely(element, expected):
    state = {ids.AUTO_RENEW_BLOCK: {ids.FIELD_VALUE: element}} if element is not None else {}
    assert form.read_auto_renew(state) is expected


# -- cached guide and help ------------------------------------------------------------------------
def test_guide_and_help_are_built_once_and_each_caller_gets_its_own_list():
    flow = catalog.get("wix")
    first = messages.guide_blocks(flow)
    hits = messages._guide_blocks.cache_info().hits
    first.append({"type": "divider"})  # a caller adding to its copy changes nothing for others
    again = messages.guide_blocks(flow)
    assert messages._guide_blocks.cache_info().hits == hits + 1
    assert again == first[:-1]
    help_hits = (messages.help_blocks(), messages._help_blocks.cache_info().hits)[1]
    messages.help_blocks()
    assert messages._help_blocks.cache_info().hits == help_hits + 1


# -- dates ----------------------------------------------------------------------------------------
def test_dates_are_slack_tokens_for_the_exact_instant_with_a_utc_fallback():
    aware = datetime(2030, 2, 14, 9, 30, tzinfo=UTC)
    naive = datetime(2030, 2, 14, 9, 30)  # SQLite hands these back; they are UTC
    for when in (aware, naive):
        assert text.slack_moment(when) == (
            f"<!date^{int(aware.timestamp())}^{{date_long}} at {{time}}"
            "|Thursday 14 February 2030 at 09:30 UTC>"
        )
    assert text.slack_date(aware).endswith("|2030-02-14>")
    assert text.slack_date(None, "none planned") == "none planned"


@pytest.mark.parametrize("provided_by", [None, "U0PROVIDER"])
def test_reminder_buttons_built_as_dicts_are_the_models_buttons(provided_by):
    from bot.slack.ui import reminders

    info = _info(provided_by=provided_by)
    assert reminders.buttons_dict(info) == reminders.credential_buttons(info).to_dict()
    now = datetime.now(UTC)
    message = reminders.reminder_message(info, "expiry-3d", now, "Renewal <b> failed")
    shown = validate_blocks(message["blocks"])
    assert shown[-1] == reminders.credential_buttons(info).to_dict()
    assert "Renewal &lt;b&gt; failed" in json.dumps(shown)
