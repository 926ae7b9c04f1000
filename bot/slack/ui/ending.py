"""What a key is for, until when, and how it leaves (issue 19): the "still needed?" question,
the platform's revocation steps, the notice that getkey forgot a key, and the workspace's
support contact wherever people may need help."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    SectionBlock,
)

from bot.slack.ui import ids
from bot.slack.ui.contact import help_line
from bot.slack.ui.text import (
    chunks,
    clip,
    confirm_dialog,
    credential_line,
    dicts,
    escape,
    flow_name,
    md,
    slack_day,
    store_of,
)
from flows import catalog

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo

EXTEND_BY = timedelta(days=14)


def revoke_lines(platform: str) -> list[str]:
    flow = catalog.get(platform)
    if flow is None or not flow.revoke_steps:
        return [f"Revoke the key on {escape(platform)} too: getkey cannot do that for you."]
    steps = [
        f"*{n}. {escape(step.title)}*" + (f"\n{step.detail}" if step.detail else "")
        for n, step in enumerate(flow.revoke_steps, start=1)
    ]
    return [f"*To take the key back on {flow.name} as well:*", *steps]


def revoke_blocks(platform: str) -> list[Block]:
    return [SectionBlock(text=md(text)) for text in chunks(revoke_lines(platform))]


def done_button(info: CredentialInfo) -> ButtonElement:
    return ButtonElement(
        text="Done with it", action_id=ids.END_DONE, value=info.id,
        confirm=confirm_dialog(
            "Done with this key?",
            f"getkey forgets the {flow_name(info.platform)} key for "
            f"{clip(store_of(info), 120)} ({info.masked}) and shows how to revoke it "
            "on the platform.",
            "Done",
        ),
    )  # fmt: skip


def still_needed_message(info: CredentialInfo, now: datetime) -> dict[str, Any]:
    until = info.needed_until or now
    later = (max(until, now) + EXTEND_BY).astimezone(UTC).date().isoformat()
    blocks: list[Block] = [
        SectionBlock(text=md(
            f"{credential_line(info)}\nThis key is needed until {slack_day(until)}. "
            "*Still needed?* Pick a later date to keep it, or press *Done with it*. If nothing "
            "is chosen, getkey forgets it on that day and sends the steps to revoke it."
        )),
        ActionsBlock(block_id=f"{ids.END_BLOCK}.{info.id}", elements=[
            DatePickerElement(action_id=ids.END_EXTEND, initial_date=later,
                              placeholder="Keep it until…"),
            done_button(info),
        ]),
    ]  # fmt: skip
    return {
        "text": f"Still needed? Your {flow_name(info.platform)} key for {store_of(info)} "
        f"ends on {until.astimezone(UTC).date().isoformat()}.",
        "blocks": dicts(blocks),
        "unfurl_links": False,
        "unfurl_media": False,
    }


def ended_message(
    info: CredentialInfo, *, why: str, steps: bool, told: str | None = None,
    contact: str | None = None,
) -> dict[str, Any]:
    """getkey forgot a key. `steps`: include the platform's revocation steps (for whoever can
    revoke it); `told`: the person who was sent them instead."""
    lines = [f"{credential_line(info)}\n{why} getkey has deleted its copy."]
    if told:
        lines.append(f"<@{told}> was sent the steps to revoke it on {flow_name(info.platform)}.")
    blocks: list[Block] = [SectionBlock(text=md("\n".join(lines)))]
    if steps:
        blocks += revoke_blocks(info.platform)
    line = help_line(contact)
    if line:
        blocks.append(ContextBlock(elements=[md(line)]))
    return {
        "text": f"Your {flow_name(info.platform)} key for {store_of(info)} was deleted from "
        "getkey" + (": revoke it on the platform too." if steps else "."),
        "blocks": dicts(blocks),
        "unfurl_links": False,
        "unfurl_media": False,
    }


def provider_revoke_message(info: CredentialInfo, why: str,
                            contact: str | None = None) -> dict[str, Any]:
    """To whoever provided a key: its job is over, here is how to take it back."""
    text = (f"The {flow_name(info.platform)} key you provided for <@{info.user_id}> "
            f"({escape(store_of(info))}, `{info.masked}`) is no longer needed: {why} getkey "
            "has deleted its copy.")
    blocks: list[Block] = [SectionBlock(text=md(text)), *revoke_blocks(info.platform)]
    line = help_line(contact)
    if line:
        blocks.append(ContextBlock(elements=[md(line)]))
    return {
        "text": f"Please revoke the {flow_name(info.platform)} key you provided: it is no "
        "longer needed.",
        "blocks": dicts(blocks),
        "unfurl_links": False,
        "unfurl_media": False,
    }


# -- `/getkey done <n>` and the list's "Done with it": a modal, as for Delete ------------------
def confirm_done_view(credential_id: str, label: str, channel: str | None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.CONFIRM_DONE_VIEW,
        "title": {"type": "plain_text", "text": "Done with this key?"},
        "submit": {"type": "plain_text", "text": "Done"},
        "close": {"type": "plain_text", "text": "Keep it"},
        "private_metadata": json.dumps({"credential": credential_id, "channel": channel}),
        "blocks": dicts([SectionBlock(text=md(
            f"Is the job for *{escape(label)}* over?\ngetkey deletes its copy, stops its "
            "reminders and shows you how to revoke the key on the platform. If someone "
            "provided it for you, they are sent the same steps."
        ))]),
    }  # fmt: skip


def note_message(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def message_view(title: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message's blocks as a modal with only a Close button (the outcome of a confirmation)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": message["blocks"],
    }
