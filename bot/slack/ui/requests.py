"""Asking someone else for a key, on Slack's surfaces: the provider's message (and its nudge),
the requester's "asked" message with Cancel / Send again, the messages the outbox owes each
side (opened, failed, provided, withdrawn, expired, cancelled), the request rows of
`/getkey list` and the App Home, and the small "Ask for a key" modal.

Nothing here sees a secret: requests hold who, which platform, a note and a failure cause in
words; credentials are CredentialInfo (masked value only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.services.requests import fixed_words, resend_from
from bot.slack.ui import ids
from bot.slack.ui.contact import help_context
from bot.slack.ui.intent import intent_inputs
from bot.slack.ui.links import for_job, link_buttons, link_choice, locked_text, provider_words
from bot.slack.ui.messages import guide_blocks
from bot.slack.ui.text import (
    HEADER_TEXT,
    OPTION_TEXT,
    SELECT_OPTIONS,
    TITLE_TEXT,
    clip,
    confirm_dialog,
    credential_line,
    dicts,
    escape,
    flow_name,
    md,
    plain,
    slack_day,
    store_of,
)
from bot.store import outbox
from flows import catalog
from flows.base import Flow

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo
    from bot.store.requests import RequestInfo

NOTE_LIMIT = 300
ASK_HINT = "getkey checks that the key they paste allows this job; they do not have to choose."
STATE_WORDS = {
    "open": "waiting for them to open it",
    "opened": "they opened the form",
    "failed": "their last try failed",
    "fulfilled": "provided",
    "cancelled": "cancelled",
    "expired": "expired without an answer",
    "withdrawn": "withdrawn by them",
    "locked": "locked after too many keys that did not work",
    "unreached": "Slack could not reach them: a link was offered instead",
}


def state_words(info: RequestInfo) -> str:
    words = STATE_WORDS.get(info.state, info.state)
    if info.state == "failed" and info.detail:
        words += f" ({escape(clip(info.detail, 200))})"
    if info.is_open:
        words += f" · expires {slack_day(info.expires_at)}"
    return words


# -- the provider's side --------------------------------------------------------------------------
def provider_message(info: RequestInfo, flow: Flow, *, nudge: bool = False,
                     contact: str | None = None) -> dict[str, Any]:
    """Who asks, for which platform and why, the platform's guide and the button that opens
    the form, and whom to ask for help (`contact`, the workspace's). `nudge`: the one reminder
    of an unanswered request."""
    asks = f"<@{info.user_id}> asks you for a *{escape(flow.name)}* API key."
    if nudge:
        asks = (
            f":wave: Reminder: <@{info.user_id}> is still waiting for a "
            f"*{escape(flow.name)}* API key."
        )
    if info.note:
        asks += f"\n>{escape(clip(info.note, NOTE_LIMIT))}"
    if job := fixed_words(info):
        asks += f"\n*For:* {job}."
    asks += "\nFollow the steps below, then press the button: the key is checked with "
    asks += f"{escape(flow.name)} and stored encrypted for <@{info.user_id}>, never shown in Slack."
    guide = [
        b for b in guide_blocks(flow)
        if not any(e.get("action_id") == ids.OPEN_FORM for e in b.get("elements", []))
    ]  # fmt: skip
    button = {
        "type": "actions",
        "block_id": ids.REQUEST_BLOCK,
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Paste the key"},
                "action_id": ids.OPEN_REQUEST_FORM,
                "value": info.id,
                "style": "primary",
            }
        ],
    }
    intro = {"type": "section", "text": {"type": "mrkdwn", "text": asks}}
    text = f"A {flow.name} key is asked of you"
    return {"text": ("Reminder: " if nudge else "") + text,
            "blocks": [intro, *guide, button, *help_context(contact)]}


def withdraw_button(info: RequestInfo, cred: CredentialInfo) -> ButtonElement:
    return ButtonElement(
        text="Withdraw it",
        action_id=ids.REQUEST_WITHDRAW,
        value=info.id,
        style="danger",
        confirm=confirm_dialog(
            "Withdraw this key?",
            f"getkey will delete the {flow_name(cred.platform)} key for "
            f"{clip(store_of(cred), 120)} ({cred.masked}) that you provided, and tell the person "
            "who asked. The key itself keeps working on the platform until you revoke it there.",
            "Withdraw",
            danger=True,
        ),
    )


def provided_blocks(info: RequestInfo, cred: CredentialInfo) -> list[Block]:
    line = (
        f"You provided {credential_line(cred)} for <@{info.user_id}>. It is stored for them, "
        "encrypted; withdraw it if it should no longer be used."
    )
    return [
        SectionBlock(text=md(line)),
        ActionsBlock(block_id=f"provided:{info.id}", elements=[withdraw_button(info, cred)]),
    ]


# -- the requester's side ---------------------------------------------------------------------
def request_buttons(info: RequestInfo, *, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(
        block_id=block_id or f"request:{info.id}",
        elements=[
            ButtonElement(text="Send again", action_id=ids.REQUEST_RESEND, value=info.id),
            ButtonElement(
                text="Cancel the request",
                action_id=ids.REQUEST_CANCEL,
                value=info.id,
                confirm=confirm_dialog(
                    "Cancel this request?", "They will be told there is nothing to do.",
                    "Cancel it",
                ),
            ),
        ],
    )


def asked_message(info: RequestInfo, flow: Flow, where: str) -> dict[str, Any]:
    text = (
        f"Asked <@{info.provider_id}> {where} for a {escape(flow.name)} key{for_job(info)}. You "
        "will be told when they open the form and when the key is verified; `/getkey list` "
        "shows the request."
    )
    blocks: list[Block] = [SectionBlock(text=md(text)), request_buttons(info)]
    if info.resent_at:
        blocks.append(ContextBlock(elements=[md(resend_hint(info))]))
    return {"text": text, "blocks": dicts(blocks)}


def resend_hint(info: RequestInfo) -> str:
    """When "Send again" works again (it is limited to once an hour)."""
    when = resend_from(info)
    if when is None:
        return ""
    stamp = int(when.timestamp())
    return f"*Send again* works again from <!date^{stamp}^{{time}}|{when:%H:%M} UTC>."


# Closed requests (not fulfilled) under the open ones: the newest few.
CLOSED_SHOWN = 3


def request_rows(requests: Sequence[RequestInfo], *, limit: int = 10) -> list[Block]:
    """The requester's open requests (with their buttons) and the last closed ones."""
    shown = [r for r in requests if r.is_open][:limit]
    closed = [r for r in requests if not r.is_open and r.state != "fulfilled"][:CLOSED_SHOWN]
    if not shown and not closed:
        return []
    blocks: list[Block] = [HeaderBlock(text=plain("Your requests", HEADER_TEXT))]
    for r in shown:
        line = f"*{escape(flow_name(r.platform))}* {_asked(r)}{for_job(r)} · {state_words(r)}"
        blocks.append(SectionBlock(text=md(line)))
        blocks.append(link_buttons(r) if r.by_link else request_buttons(r))
    if closed:
        lines = [f"{escape(flow_name(r.platform))} {_asked(r)}: {state_words(r)}" for r in closed]
        blocks.append(ContextBlock(elements=[md(clip("\n".join(lines), 2000))]))
    return blocks


def _asked(info: RequestInfo) -> str:
    return "asked by link" if info.by_link else f"asked of <@{info.provider_id}>"


def provided_rows(provided: Sequence[tuple[RequestInfo, CredentialInfo]]) -> list[Block]:
    if not provided:
        return []
    blocks: list[Block] = [HeaderBlock(text=plain("Keys you provided", HEADER_TEXT))]
    for info, cred in provided[:10]:
        blocks += provided_blocks(info, cred)
    return blocks


# -- what the outbox owes ---------------------------------------------------------------------
def request_owed(
    kind: str, info: RequestInfo, cred: CredentialInfo | None, now: datetime,
    *, contact: str | None = None,
) -> dict[str, Any] | None:
    """The message for an outbox intent about a request, rendered from the request as it is
    now. None when there is nothing left to say (it moved on, or the key is gone)."""
    flow = catalog.get(info.platform)
    name = escape(flow.name if flow else info.platform)
    provider, requester = provider_words(info), f"<@{info.user_id}>"
    provider = provider[:1].upper() + provider[1:]  # it starts the sentences below
    buttons = link_buttons if info.by_link else request_buttons
    blocks: list[Block]
    if kind == outbox.REQUEST_NUDGE:
        if not info.is_open or flow is None:
            return None
        return provider_message(info, flow, nudge=True, contact=contact)
    if kind == outbox.REQUEST_OPENED:
        if not info.is_open:
            return None  # already answered: the next message says how
        text = f"{provider} opened the form for the {name} key you asked for."
        if info.by_link:
            text = f"Your link for a {name} key was opened: the guide and the form are shown."
        blocks = [SectionBlock(text=md(text)), buttons(info)]
    elif kind == outbox.REQUEST_FAILED:
        cause = escape(clip(info.detail or "the platform did not accept it.", 300))
        text = (
            f"{provider} tried a {name} key for you, but it failed: {cause} "
            "They can try again from the same form."
        )
        blocks = [SectionBlock(text=md(text))]
        if info.is_open:
            blocks.append(buttons(info))
    elif kind == outbox.REQUEST_PROVIDED:
        if cred is None or info.state != "fulfilled":
            return None
        text = f"You provided a {name} key for {requester}: it is verified and stored for them."
        blocks = provided_blocks(info, cred)
    else:
        closing = closed_text(kind, info, name, provider, requester)
        if closing is None:
            return None
        text, blocks = closing, [SectionBlock(text=md(closing))]
    return {"text": text, "blocks": dicts(blocks), "unfurl_links": False}


def closed_text(kind: str, info: RequestInfo, name: str, provider: str,
                requester: str) -> str | None:
    """The words of an outbox message that only says how a request ended (no buttons)."""
    if kind == outbox.REQUEST_WITHDRAWN:
        return (
            f"{provider} withdrew the {name} key they provided for you, so getkey deleted it. "
            f"Ask again with `/getkey request @person {escape(info.platform)}` if you still "
            "need one."
        )
    if kind == outbox.REQUEST_EXPIRED:
        return (
            f"Your request to {provider_words(info)} for a {name} key expired: nobody answered "
            "it in time. "
            f"Ask again with `/getkey request {'link' if info.by_link else '@person'} "
            f"{escape(info.platform)}` if you still need one."
        )
    if kind == outbox.REQUEST_LOCKED:
        return locked_text(info, name)
    if kind == outbox.REQUEST_CANCELLED:
        return f"{requester} cancelled their request for a {name} key: there is nothing to do."
    return None


# -- the "Ask for a key" modal -----------------------------------------------------------------
def ask_view(
    *, provider_id: str | None = None, channel_id: str | None = None, link: bool = False,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Whom to ask (or a link instead), for which platform, what for and until when, and a
    note. `provider_id`: preselected (the author of the message the shortcut was used on);
    `channel_id`: where to fall back to if no DM; `link`: "Send a link instead" ticked;
    `purpose`: the workspace's default, which the modal starts on."""
    flows = [f for f in catalog.all_flows() if f.verifiable and f.fields][:SELECT_OPTIONS]
    user = UserSelectElement(action_id=ids.FIELD_VALUE, placeholder="Choose a person")
    if provider_id:
        user.initial_user = provider_id
    view = View(
        type="modal",
        callback_id=ids.ASK_VIEW,
        title=plain("Ask for a key", TITLE_TEXT),
        submit=plain("Ask", TITLE_TEXT),
        close=plain("Cancel", TITLE_TEXT),
        private_metadata=json.dumps({"channel": channel_id}),
        blocks=[
            SectionBlock(
                text=md(
                    "getkey sends them the platform's guide and a form; the key they paste is "
                    "checked and stored encrypted *for you*, never shown in Slack."
                )
            ),
            InputBlock(block_id=ids.ASK_USER_BLOCK, label="Whom to ask", element=user,
                       optional=True),
            link_choice(link),
            InputBlock(
                block_id=ids.ASK_PLATFORM_BLOCK,
                label="Which platform",
                element=StaticSelectElement(
                    action_id=ids.FIELD_VALUE,
                    placeholder="Choose a platform",
                    options=[Option(text=clip(f.name, OPTION_TEXT), value=f.id) for f in flows],
                ),
            ),
            *intent_inputs(purpose, hint=ASK_HINT),
            InputBlock(
                block_id=ids.ASK_NOTE_BLOCK,
                label="A short note (why you need it)",
                optional=True,
                element=PlainTextInputElement(action_id=ids.FIELD_VALUE, max_length=NOTE_LIMIT),
            ),
        ],
    )
    return view.to_dict()


def read_ask(state: Mapping[str, Any]) -> tuple[str, str, str]:
    """(provider id, platform id, note) from the modal's state values; '' when missing."""

    def element(block: str) -> Mapping[str, Any]:
        return (state.get(block) or {}).get(ids.FIELD_VALUE) or {}

    user = str(element(ids.ASK_USER_BLOCK).get("selected_user") or "")
    option = element(ids.ASK_PLATFORM_BLOCK).get("selected_option") or {}
    platform = str(option.get("value") or "")
    note = str(element(ids.ASK_NOTE_BLOCK).get("value") or "")
    return user, platform, note


def read_ask_link(state: Mapping[str, Any]) -> bool:
    """Whether "Send a link instead" is ticked in the modal's state values."""
    chosen = ((state.get(ids.ASK_LINK_BLOCK) or {}).get(ids.FIELD_VALUE) or {}).get(
        "selected_options"
    ) or []
    return any(o.get("value") == ids.LINK_CHOICE for o in chosen if isinstance(o, Mapping))
