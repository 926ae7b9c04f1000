"""The workspace's support contact in Slack (issue 19): the line that names it wherever people
may need help (guides, failed verifications, the end of a key), and the settings inputs admins
choose it with. The contact is an admin's input: a typed address is escaped, never a mention."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ChannelSelectElement,
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    UserSelectElement,
)

from bot.services.contact import (
    ADDRESS,
    CHANNEL,
    NO_CONTACT,
    PERSON,
    ContactChoice,
    split_contact,
)
from bot.slack.ui import ids
from bot.slack.ui.text import LABEL_TEXT, PLACEHOLDER_TEXT, clip, dicts, escape, md, plain

# What the form shows when no contact is set (the wording getkey always used).
NOBODY = "Nobody: getkey says to tell whoever runs it"
KIND_LABELS = {
    NO_CONTACT: NOBODY,
    PERSON: "A person",
    CHANNEL: "A channel",
    ADDRESS: "A web page or an email address",
}
# Where an error about each kind of contact is shown.
KIND_BLOCKS = {
    PERSON: ids.ADMIN_CONTACT_USER_BLOCK,
    CHANNEL: ids.ADMIN_CONTACT_CHANNEL_BLOCK,
    ADDRESS: ids.ADMIN_CONTACT_TEXT_BLOCK,
}
ADDRESS_MAX = 290


def contact_words(stored: str | None) -> str | None:
    """mrkdwn naming the workspace's support contact, None when there is none."""
    found = split_contact(stored)
    if found is None:
        return None
    kind, value = found
    if kind == "user":
        return f"<@{value}>"
    if kind == "channel":
        return f"<#{value}>"
    if kind == "email":
        return f"<mailto:{value}|{escape(value)}>"
    return f"<{value}|{escape(clip(value, 80))}>"


def help_line(stored: str | None) -> str | None:
    """"Need help? Ask …" for guides, failure results and link pages."""
    who = contact_words(stored)
    return f":raising_hand: Need help with this? Ask {who}." if who else None


def help_context(stored: str | None) -> list[dict[str, Any]]:
    line = help_line(stored)
    return dicts([ContextBlock(elements=[md(line)])]) if line else []


# -- the settings inputs --------------------------------------------------------------------------
def contact_inputs(stored: str | None) -> list[InputBlock]:
    """"Who people ask for help": the kind, then one input per kind (only the chosen one
    counts, so choosing "Nobody" clears the contact)."""
    kind, value = split_contact(stored) or (NO_CONTACT, "")
    kind = ADDRESS if kind in ("url", "email") else kind
    options = [Option(text=text, value=key) for key, text in KIND_LABELS.items()]
    initial = next(o for o in options if o.value == kind)
    return [
        InputBlock(
            block_id=ids.ADMIN_CONTACT_KIND_BLOCK,
            label=plain("Who people ask for help", LABEL_TEXT),
            element=RadioButtonsElement(action_id=ids.FIELD_VALUE, options=options,
                                        initial_option=initial),
            hint=plain("Shown in the guides, when a key is refused and on link pages.",
                       LABEL_TEXT),
        ),
        InputBlock(
            block_id=ids.ADMIN_CONTACT_USER_BLOCK, label=plain("The person", LABEL_TEXT),
            element=UserSelectElement(action_id=ids.FIELD_VALUE,
                                      placeholder=plain("Pick a person", PLACEHOLDER_TEXT),
                                      initial_user=value if kind == PERSON else None),
            optional=True,
        ),
        InputBlock(
            block_id=ids.ADMIN_CONTACT_CHANNEL_BLOCK, label=plain("The channel", LABEL_TEXT),
            element=ChannelSelectElement(action_id=ids.FIELD_VALUE,
                                         placeholder=plain("Pick a channel", PLACEHOLDER_TEXT),
                                         initial_channel=value if kind == CHANNEL else None),
            optional=True,
        ),
        InputBlock(
            block_id=ids.ADMIN_CONTACT_TEXT_BLOCK,
            label=plain("The web page or email address", LABEL_TEXT),
            element=PlainTextInputElement(
                action_id=ids.FIELD_VALUE, max_length=ADDRESS_MAX,
                initial_value=value if kind == ADDRESS else None,
                placeholder=plain("https://help.example.com or help@example.com",
                                  PLACEHOLDER_TEXT),
            ),
            optional=True,
        ),
    ]  # fmt: skip


def read_contact(state: Mapping[str, Any]) -> ContactChoice:
    def element(block: str) -> Mapping[str, Any]:
        found = (state.get(block) or {}).get(ids.FIELD_VALUE)
        return found if isinstance(found, Mapping) else {}

    picked = element(ids.ADMIN_CONTACT_KIND_BLOCK).get("selected_option")
    kind = str(picked.get("value") or "") if isinstance(picked, Mapping) else ""
    return ContactChoice(
        kind=kind if kind in KIND_LABELS else NO_CONTACT,
        user=str(element(ids.ADMIN_CONTACT_USER_BLOCK).get("selected_user") or "") or None,
        channel=str(element(ids.ADMIN_CONTACT_CHANNEL_BLOCK).get("selected_channel") or "")
        or None,
        text=str(element(ids.ADMIN_CONTACT_TEXT_BLOCK).get("value") or "") or None,
    )


def contact_summary(stored: str | None) -> str:
    """The admin view's line: who people are told to ask."""
    return contact_words(stored) or "nobody set (getkey says to tell whoever runs it)"
