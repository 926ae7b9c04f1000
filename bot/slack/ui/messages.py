"""Messages: the ephemeral answers to /getkey (help, guide, unknown platform, list) and the DM
that confirms a stored key. Reminder DMs are in bot.slack.ui.reminders.

Help and guide blocks depend only on the catalogue, which does not change while the process
runs, so each is built once and served from a cache (rebuilding them through the model classes
on every request cost a tenth of the CPU under load). Callers get their own list; the block
dicts inside are shared and must be treated as read-only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot import wording
from bot.slack.ui import ids, paging
from bot.slack.ui.text import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    HEADER_TEXT,
    ID_LENGTH,
    MESSAGE_BLOCKS,
    OPTION_TEXT,
    PLACEHOLDER_TEXT,
    PRIVACY_NOTE,
    SECTION_TEXT,
    SELECT_OPTIONS,
    chunks,
    clip,
    dicts,
    escape,
    flow_name,
    md,
    plain,
    row_label,
    slack_date,
    status_label,
    store_of,
)
from flows import catalog
from flows.base import Flow, VerifyResult

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo
    from bot.store.listing import Page


def offered_flows(offered: Sequence[str] | None = None) -> list[Flow]:
    """Every platform, or only those a workspace's admins offer (bot.services.admins defaults)."""
    return [f for f in catalog.all_flows() if offered is None or f.id in offered]


def platform_select(
    placeholder: str = "Choose a platform", offered: tuple[str, ...] | None = None
) -> StaticSelectElement:
    options = [
        Option(text=clip(f.name, OPTION_TEXT), value=f.id)
        for f in offered_flows(offered)[:SELECT_OPTIONS]
    ]
    return StaticSelectElement(
        action_id=ids.PICK_PLATFORM,
        placeholder=plain(placeholder, PLACEHOLDER_TEXT),
        options=options,
    )


# -- help -------------------------------------------------------------------------------------
def help_blocks(offered: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """`offered`: the platforms this workspace offers (None: all of them)."""
    return list(_help_blocks(offered))


@lru_cache(maxsize=64)
def _help_blocks(offered: tuple[str, ...] | None = None) -> tuple[dict[str, Any], ...]:
    names = ", ".join(f.name for f in offered_flows(offered))
    blocks: list[Block] = [
        SectionBlock(
            text=md(
                "*getkey* walks you to a working API key for your store: where to click, what "
                "to tick, the mistakes to avoid. Paste the key into a form and it is checked "
                "live with the platform, stored encrypted, and you get a reminder before it "
                "expires or is due for rotation."
            )
        ),
        SectionBlock(
            block_id=ids.PICK_BLOCK,
            text=md("*Which platform is the key for?*"),
            accessory=platform_select(offered=offered),
        ),
        ContextBlock(
            elements=[
                md(
                    f"Supported: {names}. Or type `/getkey wix` directly. "
                    "`/getkey list` shows your stored keys, `/getkey delete` removes one, "
                    "`/getkey done <number>` ends one's job (getkey forgets it and shows how "
                    "to revoke it). "
                    + PRIVACY_NOTE
                )
            ]
        ),
    ]
    return tuple(dicts(blocks))


def help_text() -> str:
    return "getkey: pick your platform to see how to get its API key."


# -- a platform's guide -------------------------------------------------------------------------
def guide_blocks(flow: Flow) -> list[dict[str, Any]]:
    return list(_guide_blocks(flow))


@lru_cache(maxsize=256)
def _guide_blocks(flow: Flow) -> tuple[dict[str, Any], ...]:
    blocks: list[Block] = [HeaderBlock(text=plain(f"{flow.name}: get an API key", HEADER_TEXT))]
    if flow.summary:
        blocks.append(SectionBlock(text=md(flow.summary)))
    steps = [
        f"*{n}. {escape(step.title)}*" + (f"\n{step.detail}" if step.detail else "")
        for n, step in enumerate(flow.steps, start=1)
    ]
    # Steps share sections so that a long guide stays well under the 50-block message limit.
    blocks += [SectionBlock(text=md(text)) for text in chunks(steps)]
    if flow.fields:
        wanted = [
            f"• *{escape(f.label)}*"
            + (" (kept secret)" if f.secret else "")
            + (f": {f.hint}" if f.hint else "")
            for f in flow.fields
        ]
        blocks += [SectionBlock(text=md(t)) for t in chunks(["*What you will paste*", *wanted])]
    if flow.troubleshooting:
        trouble = [f"• *{escape(t.symptom)}*: {t.fix}" for t in flow.troubleshooting]
        blocks.append(DividerBlock())
        blocks += [SectionBlock(text=md(t)) for t in chunks(["*Common mistakes*", *trouble])]
    if flow.verifiable and flow.fields:
        blocks.append(
            ActionsBlock(
                block_id=ids.START_BLOCK,
                elements=[
                    ButtonElement(
                        text=plain("Paste the key", BUTTON_TEXT),
                        action_id=ids.OPEN_FORM,
                        value=flow.id,
                        style="primary",
                    )
                ],
            )
        )
        note = (
            f"The key is sent only to {flow.name} to check it, then stored encrypted; Slack "
            "only ever shows its last 4 characters. " + PRIVACY_NOTE
        )
    else:
        note = f"{flow.name} has no API key to check: the steps above are all there is. "
        note += PRIVACY_NOTE
    blocks.append(ContextBlock(elements=[md(note)]))
    return tuple(dicts(blocks[:MESSAGE_BLOCKS]))


def guide_text(flow: Flow) -> str:
    return f"How to get a {flow.name} API key"


# -- a name that is not a platform -----------------------------------------------------------
def unknown_blocks(
    name: str, suggestions: Sequence[Flow], offered: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    typed = escape(clip(name.strip(), 60))
    blocks: list[Block] = []
    if suggestions:
        listed = " or ".join(f"*{s.name}*" for s in suggestions)
        blocks.append(
            SectionBlock(
                text=md(f"I don't know a platform called “{typed}”. Did you mean {listed}?")
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=ids.SUGGESTIONS_BLOCK,
                elements=[
                    ButtonElement(
                        text=plain(s.name, BUTTON_TEXT),
                        action_id=ids.guide_action(s.id),
                        value=s.id,
                    )
                    for s in suggestions[:5]
                ],
            )
        )
    else:
        blocks.append(
            SectionBlock(
                block_id=ids.PICK_BLOCK,
                text=md(f"I don't know a platform called “{typed}”. Pick yours from the list:"),
                accessory=platform_select(offered=offered),
            )
        )
    note = "`/getkey help` lists every platform. " + PRIVACY_NOTE
    blocks.append(ContextBlock(elements=[md(note)]))
    return dicts(blocks)


def family_blocks(intro: str, editions: Sequence[Flow]) -> list[dict[str, Any]]:
    """A family name ("lightspeed"): every edition, how to recognise it, a button to its
    guide. All the words come from the flows (catalog.FAMILIES, Flow.edition/.recognise)."""
    blocks: list[Block] = [SectionBlock(text=md(intro))]
    for flow in editions:
        blocks.append(
            SectionBlock(
                text=md(f"*{escape(flow.edition or flow.name)}*\n{escape(flow.recognise)}"),
                accessory=ButtonElement(
                    text=plain(flow.name, BUTTON_TEXT),
                    action_id=ids.guide_action(flow.id),
                    value=flow.id,
                ),
            )
        )
    blocks.append(ContextBlock(elements=[md(PRIVACY_NOTE)]))
    return dicts(blocks)


def family_text(editions: Sequence[Flow]) -> str:
    return "Which edition? " + ", ".join(f.edition or f.name for f in editions)


def unknown_text(name: str, suggestions: Sequence[Flow]) -> str:
    if suggestions:
        return "Did you mean " + " or ".join(s.name for s in suggestions) + "?"
    return "Unknown platform: pick yours from the list."


# -- /getkey list ---------------------------------------------------------------------------------
# Built as plain dicts: this is the busiest answer, and the model classes cost most of its CPU.
def _md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}


def list_row(info: CredentialInfo, n: int) -> dict[str, Any]:
    """Key number `n` (as `/getkey delete <n>` counts): platform, store, masked value, status,
    dates and a Delete button."""
    verified = slack_date(info.last_checked_at or info.verified_at)
    text = (
        f"*{n}. {escape(flow_name(info.platform))}* · {escape(store_of(info))}"
        + (f" · provided by <@{info.provided_by}>" if info.provided_by else "")
        + "\n"
        f"`{info.masked}` · {status_label(info.status)}\n"
        f"Last verified {verified} · next reminder "
        f"{slack_date(info.next_reminder_at, 'none planned')}"
    )
    value = json.dumps({"id": info.id, "label": row_label(info)})
    return {
        "type": "section",
        "block_id": clip(ids.list_row_block(info.id), ID_LENGTH),
        "text": _md(text),
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Delete", "emoji": True},
            "action_id": ids.LIST_DELETE,
            "value": clip(value, BUTTON_VALUE),
            "style": "danger",
        },
    }


def list_done(info: CredentialInfo, row: dict[str, Any]) -> dict[str, Any]:
    """The "Done with it" button under a list row (`/getkey done <n>`): the row's Delete value,
    reused (no second encoding per row on the busiest answer)."""
    value = row["accessory"]["value"]
    return {
        "type": "actions",
        "block_id": clip(ids.list_done_block(info.id), ID_LENGTH),
        "elements": [{
            "type": "button",
            "text": {"type": "plain_text", "text": "Done with it", "emoji": True},
            "action_id": ids.LIST_DONE,
            "value": value,
        }],
    }  # fmt: skip


def list_blocks(page: Page, query: str = "") -> list[dict[str, Any]]:
    """One page of the person's keys, numbered as in the whole list (when nothing is searched)
    with Previous/Next, or the keys matching `query`."""
    if not page.total and not query:
        return [
            {"type": "section", "text": _md(
                "You have no stored keys yet. Type `/getkey` to pick a platform and add one."
            )},
            {"type": "context", "elements": [_md(PRIVACY_NOTE)]},
        ]  # fmt: skip
    title = "Your stored keys" + (f": “{clip(query, 60)}”" if query else "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_TEXT)}}
    ]
    for n, info in enumerate(page.infos, start=page.offset + 1):
        row = list_row(info, n)
        blocks += (row, list_done(info, row))
    blocks += paging.nav_blocks(page, query, ids.LIST_PAGE, "getkey.list_nav")
    note = paging.summary(page, query) + " "
    if query:
        note += "Numbers count only the keys found. "
    else:
        note += "`/getkey delete <number>` removes one, `/getkey done <number>` ends its job. "
    note += "`/getkey list <words>` finds keys by platform, store or status. "
    note += "Values are never shown in full. "
    blocks.append({"type": "context", "elements": [_md(note + PRIVACY_NOTE)]})
    return blocks


def list_text(page: Page, query: str = "") -> str:
    if query:
        return paging.summary(page, query).replace("“", "").replace("”", "")
    return f"You have {page.total} stored key(s)." if page.total else "You have no stored keys yet."


# -- the DM that confirms a stored key -------------------------------------------------------
def dm_blocks(
    flow: Flow, info: CredentialInfo, result: VerifyResult, *, replaced: bool
) -> list[dict[str, Any]]:
    store = escape(store_of(info))
    action = "replaced the previous one" if replaced else "stored"
    text = (
        f":white_check_mark: Your *{escape(flow.name)}* key for *{store}* (`{info.masked}`) "
        f"is verified and {action}, encrypted."
    )
    if info.provided_by == "link":
        text += " It was provided through your link."
    elif info.provided_by:
        text += f" <@{info.provided_by}> provided it at your request."
    blocks: list[Block] = [SectionBlock(text=md(text))]
    if result.missing:
        lacks = wording.lacks_sentence(store_of(info), result.missing, wording.SLACK)
        blocks.append(SectionBlock(text=md(f":warning: {lacks}")))
    context = f"Next reminder: {slack_date(info.next_reminder_at, 'none planned')}. "
    context += "`/getkey list` shows your keys."
    blocks.append(ContextBlock(elements=[md(context)]))
    return dicts(blocks)


def dm_text(flow: Flow, info: CredentialInfo) -> str:
    return f"Your {flow.name} key for {store_of(info)} is verified and stored."
