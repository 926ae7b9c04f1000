"""Block Kit builders over every platform, and the checks slack_sdk does not make."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot import blocks, wording
from bot.blocks import BlockKitError, Ids, validate_blocks, validate_view
from flows import catalog
from flows.base import Failure, VerifyResult

FLOWS = catalog.all_flows()


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.id)
def test_every_platform_guide_and_form_fit_slack(flow):
    validate_blocks(blocks.guide_blocks(flow), surface="message")
    meta = blocks.metadata(flow.id, credential_id="c" * 36, channel="C0123456789")
    form = validate_view(blocks.form_view(flow, private_metadata=meta))
    inputs = [b for b in form["blocks"] if b["type"] == "input"]
    # The flow's fields, then (for a key that can be stored) how often to rotate it.
    assert [b["block_id"] for b in inputs] == [
        *(Ids.field_block(f.key) for f in flow.fields),
        *([Ids.ROTATION] if flow.verifiable else []),
    ]
    for f, block in zip(flow.fields, inputs[: len(flow.fields)], strict=True):
        assert block["element"]["type"] == ("static_select" if f.choices else "plain_text_input")
        assert block.get("optional", False) is (not f.required)
    validate_view(blocks.verifying_view(flow, meta))


@pytest.mark.parametrize("flow", [f for f in FLOWS if f.fields], ids=lambda f: f.id)
def test_a_re_rendered_form_never_carries_a_secret(flow):
    values = {f.key: (f.choices[0][0] if f.choices else f"value-of-{f.key}") for f in flow.fields}
    problem = VerifyResult.failed(Failure.BAD_CREDENTIAL, "Rejected.", field=flow.fields[0].key)
    public = {f.key: values[f.key] for f in flow.public_fields}
    view = validate_view(
        blocks.form_view(flow, private_metadata=blocks.metadata(flow.id), values=public,
                         problem=problem)
    )
    text = json.dumps(view)
    for f in flow.secret_fields:
        assert f"value-of-{f.key}" not in text
    for f in flow.public_fields:
        if not f.choices:
            assert f"value-of-{f.key}" in text  # identifiers are kept, so only the key is re-typed
    assert view["blocks"][0]["block_id"] == Ids.PROBLEM


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
    shown = validate_blocks(blocks.list_blocks(infos))
    assert len(shown) <= blocks.MESSAGE_BLOCKS
    assert "more not shown" in json.dumps(shown)
    rows = [b["text"]["text"] for b in shown if b["type"] == "section"]
    assert rows and all("Shop &lt;b&gt;" in r and "<b>" not in r for r in rows)  # escaped


def test_result_view_and_dm_show_only_the_masked_value():
    flow = catalog.get("wix")
    result = VerifyResult(ok=True, store_name="Shop", granted=("a",), missing=("orders",))
    view = validate_view(blocks.result_view(flow, _info(), result, replaced=True))
    text = json.dumps(view, ensure_ascii=False)
    assert "••••••ab12" in text and "lacks orders" in text and "replaced" in text
    validate_blocks(blocks.dm_blocks(flow, _info(), replaced=False))


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
    view = validate_view(blocks.form_view(flow, private_metadata="{}"))
    assert len(view["title"]["text"]) <= blocks.TITLE_TEXT


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30", 30), ("365", 365), ("default", None), ("0", None), ("99999", None), ("-5", None),
     ("abc", None), (None, None)],
)
def test_a_submitted_rotation_period_is_read_safely(value, expected):
    # A forged or stale submission can carry anything in the select's value.
    option = {"value": value} if value is not None else None
    state = {Ids.ROTATION: {Ids.FIELD_ACTION: {"type": "static_select", "selected_option": option}}}
    assert blocks.read_rotation(state) == expected
