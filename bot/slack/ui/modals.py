"""The modals around the credential form (bot.slack.ui.form): checking, the result, the failures,
deleting, and the short notes shown in a modal where there is no conversation to answer in."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock
from slack_sdk.models.views import View

from bot import wording
from bot.slack.ui import ids
from bot.slack.ui.contact import contact_words
from bot.slack.ui.ending import revoke_lines
from bot.slack.ui.form import form_title
from bot.slack.ui.text import (
    FIELD_TEXT,
    HEADER_TEXT,
    TITLE_TEXT,
    clip,
    escape,
    flow_name,
    md,
    plain,
    row_label,
    slack_date,
)
from flows.base import Flow, VerifyResult

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo


def verifying_view(flow: Flow, private_metadata: str, *, queued: bool = False) -> dict[str, Any]:
    """`queued`: many checks with this platform are running, so this one waits its turn (getkey
    never sends a platform more than a bounded number at once)."""
    return {**_verifying(flow, queued), "private_metadata": private_metadata}


@lru_cache(maxsize=64)
def _verifying(flow: Flow, queued: bool) -> dict[str, Any]:
    # Built once per platform: this is in every submission's ack.
    private_metadata = ""
    wait = (
        f"Many keys are being checked with {flow.name} right now, so yours is queued; it "
        "starts in a moment. Keep this window open."
        if queued
        else "This usually takes a few seconds."
    )
    view = View(
        type="modal",
        callback_id=ids.FORM_VIEW,
        title=form_title(flow),
        close=plain("Close", TITLE_TEXT),
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(text=md(f":hourglass_flowing_sand: Checking the key with {flow.name}…")),
            ContextBlock(elements=[md(wait)]),
        ],
    )
    return view.to_dict()


def result_view(
    flow: Flow,
    info: CredentialInfo,
    result: VerifyResult,
    *,
    replaced: bool,
    rotating: CredentialInfo | None = None,
) -> dict[str, Any]:
    """`rotating`: the stored key a "Rotate now" started from, when the new key turned out to
    belong to a different store; the old one is kept, and the person is told so."""
    store_name = info.store_name or result.store_name or info.identity
    facts = [
        f"*Store*\n{escape(store_name)}",
        f"*Key*\n`{info.masked}`",
        f"*Permissions found*\n{escape(', '.join(result.granted)) or '—'}",
        f"*Missing*\n{escape(', '.join(result.missing)) or 'nothing'}",
        f"*Expires*\n{slack_date(info.expires_at or result.expires_at, 'no expiry date')}",
        f"*Next reminder*\n{slack_date(info.next_reminder_at, 'none planned')}",
    ]
    if result.account:
        facts.insert(1, f"*Account*\n{escape(result.account)}")
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"✅ {flow.name} key verified", HEADER_TEXT)),
        SectionBlock(fields=[md(clip(f, FIELD_TEXT)) for f in facts[:10]]),
    ]
    if result.missing:
        lacks = wording.lacks_sentence(store_name, result.missing, wording.SLACK)
        blocks.append(SectionBlock(text=md(f":warning: {lacks}")))
    for warning in result.warnings[:5]:
        blocks.append(SectionBlock(text=md(f":information_source: {escape(warning)}")))
    if rotating is not None and rotating.id != info.id:
        blocks.append(
            SectionBlock(
                text=md(
                    ":warning: This key is for a different store than the one you were rotating "
                    f"(*{escape(row_label(rotating))}*), so it was stored beside it. The old key "
                    "and its reminders are unchanged: delete it from `/getkey list` if nobody "
                    "uses it any more."
                )
            )
        )
    note = "Stored encrypted; Slack only ever shows its last 4 characters. "
    if replaced:
        note = "This replaced the key stored before for this store. " + note
    note += "`/getkey list` shows your keys."
    blocks.append(ContextBlock(elements=[md(note)]))
    view = View(
        type="modal",
        callback_id=ids.FORM_VIEW,
        title=plain("Key verified", TITLE_TEXT),
        close=plain("Done", TITLE_TEXT),
        blocks=blocks,
    )
    return view.to_dict()


def save_failed_view(flow: Flow, contact: str | None = None) -> dict[str, Any]:
    who = contact_words(contact) or "whoever runs getkey"
    return done_view(
        form_title(flow).text,
        f":warning: The key works with {flow.name}, but getkey could not store it just now, so "
        f"nothing was saved. Please try again in a minute; if it keeps happening, tell {who}.",
        close="Close",
    )


def confirm_delete_view(credential_id: str, label: str, channel: str | None) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=ids.CONFIRM_DELETE_VIEW,
        title=plain("Delete this key?", TITLE_TEXT),
        submit=plain("Delete", TITLE_TEXT),
        close=plain("Keep it", TITLE_TEXT),
        private_metadata=json.dumps({"credential": credential_id, "channel": channel}),
        blocks=[
            SectionBlock(
                text=md(
                    f"Delete *{escape(label)}*?\ngetkey forgets it and stops its reminders. "
                    "The key itself keeps working on the platform until you revoke it there."
                )
            )
        ],
    )
    return view.to_dict()


def deleted_view(info: CredentialInfo) -> dict[str, Any]:
    return done_view(
        "Key deleted",
        f"Deleted *{escape(row_label(info))}*. If nobody uses it any more, take it back on "
        f"{escape(flow_name(info.platform))} too.\n"
        + clip("\n".join(revoke_lines(info.platform)[1:]), 2500),
    )


def done_view(title: str, text: str, *, close: str = "Done") -> dict[str, Any]:
    """A modal that only says something (the end of a journey, or a note on the Home tab)."""
    view = View(
        type="modal",
        title=plain(title, TITLE_TEXT),
        close=plain(close, TITLE_TEXT),
        blocks=[SectionBlock(text=md(text))],
    )
    return view.to_dict()
