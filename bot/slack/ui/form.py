"""The credential form: one input per field of the flow, how often to be reminded to rotate,
and (for flows that can renew a token) the renewal opt-in. Also the readers of a submitted
form's state and the form's private_metadata.

A secret is never put back into a view: after a failure the person pastes it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import wording
from bot.slack.ui import ids
from bot.slack.ui.contact import help_line
from bot.slack.ui.intent import fixed_block, intent_inputs
from bot.slack.ui.text import (
    INPUT_MAX,
    LABEL_TEXT,
    OPTION_TEXT,
    PLACEHOLDER_TEXT,
    SELECT_OPTIONS,
    TITLE_TEXT,
    clip,
    md,
    plain,
)
from flows import catalog
from flows.base import Field, Flow, VerifyResult

if TYPE_CHECKING:
    from bot.services.outcomes import Intent
    from bot.store.info import CredentialInfo

ROTATION_CHOICES = (30, 60, 90, 180, 365)
AUTO_RENEW_LABEL = "Let getkey renew this token automatically"


# -- private_metadata ---------------------------------------------------------------------------
def metadata(flow_id: str, *, credential_id: str | None = None, channel: str | None = None) -> str:
    """private_metadata: identifiers only, never a value from the form."""
    return json.dumps({"flow": flow_id, "credential": credential_id, "channel": channel})


def read_metadata(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- building -----------------------------------------------------------------------------------
def form_title(flow: Flow) -> PlainTextObject:
    return plain(f"{flow.name} key", TITLE_TEXT)


def _input(f: Field, values: Mapping[str, str]) -> InputBlock:
    initial = "" if f.secret else (values.get(f.key) or "")
    element: StaticSelectElement | PlainTextInputElement
    if f.choices:
        options = [
            Option(text=clip(label, OPTION_TEXT), value=value)
            for value, label in f.choices[:SELECT_OPTIONS]
        ]
        chosen = next((o for o in options if o.value == initial), None)
        element = StaticSelectElement(
            action_id=ids.FIELD_VALUE,
            placeholder=plain(f"Choose {f.label.lower()}", PLACEHOLDER_TEXT),
            options=options,
            initial_option=chosen,
        )
    else:
        element = PlainTextInputElement(
            action_id=ids.FIELD_VALUE,
            multiline=f.multiline or None,
            max_length=max(1, min(f.max_length, INPUT_MAX)),
            placeholder=plain(f"e.g. {f.example}", PLACEHOLDER_TEXT) if f.example else None,
            initial_value=clip(initial, min(f.max_length, INPUT_MAX)) if initial else None,
        )
    return InputBlock(
        block_id=ids.field_block(f.key),
        label=plain(f.label, LABEL_TEXT),
        element=element,
        hint=plain(f.hint, LABEL_TEXT) if f.hint else None,
        optional=not f.required,
    )


def _rotation_input(default_days: int, chosen: int | None) -> InputBlock:
    """Per-credential rotation period: the platform's (or workspace's) by default."""
    default = Option(
        text=clip(f"Default: every {default_days} days", OPTION_TEXT), value=ids.ROTATION_DEFAULT
    )
    options = [default] + [
        Option(text=f"Every {days} days", value=str(days))
        for days in ROTATION_CHOICES
        if days != default_days
    ]
    initial = next((o for o in options if chosen is not None and o.value == str(chosen)), default)
    return InputBlock(
        block_id=ids.ROTATION_BLOCK,
        label=plain("Remind me to rotate it", LABEL_TEXT),
        element=StaticSelectElement(
            action_id=ids.FIELD_VALUE, options=options, initial_option=initial
        ),
        hint=plain("A DM with a Rotate now button when the period is up.", LABEL_TEXT),
        optional=True,
    )


def _auto_renew_input(consent: str, on: bool) -> InputBlock:
    """Renewal is opt-in: refreshing a token can revoke a copy another tool still uses, so the
    flow's warning sits right under the box and the box starts unticked."""
    option = Option(text=plain(AUTO_RENEW_LABEL, OPTION_TEXT), value=ids.AUTO_RENEW_ON)
    return InputBlock(
        block_id=ids.AUTO_RENEW_BLOCK,
        label=plain("Renewal", LABEL_TEXT),
        element=CheckboxesElement(
            action_id=ids.FIELD_VALUE,
            options=[option],
            initial_options=[option] if on else None,
        ),
        hint=plain(consent, LABEL_TEXT),
        optional=True,
    )


def form_view(
    flow: Flow,
    *,
    private_metadata: str,
    values: Mapping[str, str] | None = None,
    problem: VerifyResult | None = None,
    default_rotation_days: int | None = None,
    rotation_days: int | None = None,
    auto_renew: bool | None = None,
    purpose: str | None = "read",
    fixed: Intent | None = None,
    contact: str | None = None,
) -> dict[str, Any]:
    """The credential form. `values` may pre-fill non-secret fields after a failure;
    `rotation_days` is the period chosen before (None: the default one); `auto_renew` whether
    renewal was on for the credential being re-entered (None or False: unticked); `purpose`
    the one the form starts on; `fixed`: what a request fixed (shown, not asked); `contact`:
    the workspace's support contact, named under a `problem`."""
    if not values and problem is None:
        # The blank form is the same for everyone but its metadata: built (and validated
        # through the models) once, not on every "Paste the key" click.
        blank = _blank_form(flow, default_rotation_days, rotation_days, bool(auto_renew),
                            purpose, fixed)
        return {**blank, "private_metadata": private_metadata}
    return _build_form(
        flow,
        private_metadata=private_metadata,
        values=values or {},
        problem=problem,
        default_rotation_days=default_rotation_days,
        rotation_days=rotation_days,
        auto_renew=auto_renew,
        purpose=purpose,
        fixed=fixed,
        contact=contact,
    )


@lru_cache(maxsize=256)
def _blank_form(
    flow: Flow, default_rotation_days: int | None, rotation_days: int | None, auto_renew: bool,
    purpose: str | None = "read", fixed: Intent | None = None,
) -> dict[str, Any]:
    return _build_form(
        flow,
        private_metadata="",
        values={},
        problem=None,
        default_rotation_days=default_rotation_days,
        rotation_days=rotation_days,
        auto_renew=auto_renew,
        purpose=purpose,
        fixed=fixed,
    )


def _build_form(
    flow: Flow,
    *,
    private_metadata: str,
    values: Mapping[str, str],
    problem: VerifyResult | None,
    default_rotation_days: int | None,
    rotation_days: int | None,
    auto_renew: bool | None,
    purpose: str | None = "read",
    fixed: Intent | None = None,
    contact: str | None = None,
) -> dict[str, Any]:
    blocks: list[Block] = []
    if problem is not None:
        explained = wording.problem_text(flow, problem)
        blocks.append(SectionBlock(block_id=ids.PROBLEM_BLOCK, text=md(explained)))
        line = help_line(contact)
        if line:
            blocks.append(ContextBlock(elements=[md(line)]))
        blocks.append(DividerBlock())
    elif flow.summary:
        blocks.append(ContextBlock(elements=[md(flow.summary)]))
    blocks += [_input(f, values) for f in flow.fields]
    if flow.verifiable:
        blocks += [fixed_block(fixed)] if fixed else intent_inputs(purpose)
        blocks.append(_rotation_input(default_rotation_days or flow.rotation_days, rotation_days))
    consent = getattr(flow, "renewal_consent", None)  # Flow.renewal_consent is on its way
    if consent:
        blocks.append(_auto_renew_input(consent, bool(auto_renew)))
    blocks.append(
        ContextBlock(
            elements=[
                md(
                    f"Sent only to {flow.name} to check it, then stored encrypted. "
                    "Slack never shows it again in full."
                )
            ]
        )
    )
    view = View(
        type="modal",
        callback_id=ids.FORM_VIEW,
        title=form_title(flow),
        submit=plain("Verify" if problem is None else "Try again", TITLE_TEXT),
        close=plain("Cancel", TITLE_TEXT),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


def rotation_modal(info: CredentialInfo, default_days: int | None = None) -> dict[str, Any]:
    """The platform's own form for "Rotate now", bound to this credential through
    private_metadata (its id only). Raises LookupError when the platform is unknown."""
    flow = catalog.get(info.platform)
    if flow is None:
        raise LookupError(info.platform)
    # Non-secret identifiers are pre-filled so the new key lands on the same store; the
    # submission replaces the stored secret (same identity) and restarts reminders.
    return form_view(
        flow,
        private_metadata=metadata(flow.id, credential_id=info.id),
        values=info.identifiers,
        default_rotation_days=default_days,
        # Keep the period the person chose last time (shown as the default when it is one).
        rotation_days=info.rotation_days if info.rotation_days != default_days else None,
        auto_renew=getattr(info, "auto_renew", None),
        purpose=info.purpose,  # a new key for the same job
    )


# -- reading a submission -----------------------------------------------------------------------
def _element(state: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    block = state.get(block_id)
    element = block.get(ids.FIELD_VALUE) if isinstance(block, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def read_rotation(state: Mapping[str, Any]) -> int | None:
    """The period chosen in a submitted form; None means the default."""
    chosen = _element(state, ids.ROTATION_BLOCK).get("selected_option")
    value = str(chosen.get("value") or "") if isinstance(chosen, Mapping) else ""
    return int(value) if value.isdigit() and 0 < int(value) <= 3650 else None


def read_auto_renew(state: Mapping[str, Any]) -> bool:
    """Whether the renewal box was ticked; anything unexpected reads as "no"."""
    chosen = _element(state, ids.AUTO_RENEW_BLOCK).get("selected_options")
    if not isinstance(chosen, list):
        return False
    return any(isinstance(o, Mapping) and o.get("value") == ids.AUTO_RENEW_ON for o in chosen)
