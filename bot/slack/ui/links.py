"""Requests by link on Slack's surfaces: the requester's ephemeral answer with the link (the
only Slack message that ever holds a link's token), and the words for a request whose provider
is "whoever opens the link" in the list, the App Home and the outbox's messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    Option,
    SectionBlock,
)

from bot.services.requests import fixed_words
from bot.slack.ui import ids
from bot.slack.ui.text import clip, confirm_dialog, dicts, escape, md, slack_day

if TYPE_CHECKING:
    from bot.services.links import LinkMade
    from bot.store.requests import RequestInfo

LINK_USAGE = (
    "Usage: `/getkey request link <platform> [a short note]`, e.g. "
    "`/getkey request link wix for:write until:2027-01-31 for the migration`: you get a link "
    "to send by email or chat (`for:`/`until:` are optional; the purpose defaults to the "
    "workspace's)."
)


def provider_words(info: RequestInfo) -> str:
    """Who answers a request, as the requester reads it."""
    if not info.by_link:
        return f"<@{info.provider_id}>"
    if info.provider_name:
        return f"{escape(clip(info.provider_name, 80))} (through your link)"
    return "the person you sent the link to"


def for_job(info: RequestInfo) -> str:
    """" for read and write (import, …), needed until …" when the request fixed them."""
    job = fixed_words(info)
    return f" for {job}" if job else ""


def cancel_button(info: RequestInfo) -> ButtonElement:
    return ButtonElement(
        text="Cancel the link",
        action_id=ids.LINK_CANCEL,
        value=info.id,
        confirm=confirm_dialog(
            "Cancel this link?", "Whoever opens it will be told there is nothing to do.",
            "Cancel it",
        ),
    )


def link_buttons(info: RequestInfo) -> ActionsBlock:
    return ActionsBlock(block_id=f"link:{info.id}", elements=[cancel_button(info)])


def link_message(made: LinkMade) -> dict[str, Any]:
    """The ephemeral answer: the link itself, its expiry, and Cancel."""
    info, flow = made.request, made.flow
    text = (
        f"Here is a link for a *{escape(flow.name)}* key{for_job(info)}. Send it by email or "
        "chat to the person who can create the key: they see the guide and a form, the key is "
        "checked and stored encrypted for you. It works once, until "
        f"{slack_day(info.expires_at)}.\n{made.url}"
    )
    blocks: list[Block] = [
        SectionBlock(text=md(text)),
        link_buttons(info),
        ContextBlock(elements=[md(
            "Only you see this message. Anyone with the link can answer it, so send it only to "
            "the person it is for. `/getkey list` shows the request."
        )]),
    ]  # fmt: skip
    return {"text": f"A link for a {flow.name} key", "blocks": dicts(blocks),
            "unfurl_links": False, "unfurl_media": False}


def locked_text(info: RequestInfo, name: str) -> str:
    return (
        f"Your link for a {name} key is locked: {info.failures} keys tried through it did not "
        f"work (last: {escape(clip(info.detail or 'not accepted', 200))}). Nothing was stored. "
        f"Make a new link with `/getkey request link {escape(info.platform)}` if you still need "
        "one."
    )


def link_choice(ticked: bool = False) -> InputBlock:
    """"Send a link instead" in the Ask modal: for someone outside this Slack."""
    option = Option(
        value=ids.LINK_CHOICE,
        text=md("*Send a link instead*"),
        description=md("For someone outside this Slack: you get a link to send by email or chat."),
    )
    return InputBlock(
        block_id=ids.ASK_LINK_BLOCK,
        label="Or someone outside Slack",
        optional=True,
        element=CheckboxesElement(
            action_id=ids.FIELD_VALUE, options=[option],
            **({"initial_options": [option]} if ticked else {}),
        ),
    )


def home_link_button() -> ButtonElement:
    return ButtonElement(text="Send a link instead", action_id=ids.HOME_ASK_LINK)
