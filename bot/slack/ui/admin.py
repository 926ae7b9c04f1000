"""What workspace admins see: every credential of the workspace on the Home tab (platform, store,
owner, status, next reminder; never the value, not even masked), the workspace defaults modal,
and the admins' copy of a departed owner's reminder with its Take over button."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.ui import ids, paging
from bot.slack.ui.contact import contact_inputs, contact_summary
from bot.slack.ui.form import ROTATION_CHOICES
from bot.slack.ui.reminders import status_context
from bot.slack.ui.text import (
    HEADER_TEXT,
    LABEL_TEXT,
    OPTION_TEXT,
    TITLE_TEXT,
    clip,
    confirm_dialog,
    escape,
    flow_name,
    md,
    plain,
    slack_day,
    store_of,
)
from bot.store.admin import Defaults
from flows import catalog
from flows.purpose import Purpose

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo
    from bot.store.listing import Page

# Two blocks per credential, paging.ADMIN_PAGE of them a page, under the Home tab's 100.


def admin_toggle() -> ActionsBlock:
    """The button an admin sees above their own keys."""
    return ActionsBlock(
        block_id=ids.ADMIN_TOGGLE_BLOCK,
        elements=[ButtonElement(text="Workspace keys (admin)", action_id=ids.ADMIN_OPEN)],
    )


def admin_line(info: CredentialInfo) -> str:
    owner = f"owner <@{info.user_id}>"
    if info.owner_gone_at is not None:
        owner += f" (*left* {slack_day(info.owner_gone_at)}: reminders go to admins)"
    return f"*{flow_name(info.platform)}* · {escape(store_of(info))} · {owner}"


def defaults_summary(defaults: Defaults, groups: Mapping[str, str] | None = None) -> str:
    group = defaults.admin_group
    who = (
        f"members of {escape((groups or {}).get(group, group))}" if group
        else "Slack's workspace owners and admins"
    )  # fmt: skip
    rotation = (
        f"every {defaults.rotation_days} days" if defaults.rotation_days
        else "each platform's own period"
    )  # fmt: skip
    offered = (
        ", ".join(flow_name(p) for p in defaults.platforms) if defaults.platforms
        else "all platforms"
    )  # fmt: skip
    purpose = Purpose.parse(defaults.purpose, Purpose.READ).label.lower()
    return (f"*Admins:* {who}\n*Rotation reminders:* {rotation}\n*Offered:* {offered}\n"
            f"*Keys are for:* {purpose} unless chosen otherwise\n"
            f"*For help, people ask:* {contact_summary(defaults.support_contact)}")


def admin_home_view(page: Page, defaults: Defaults, query: str = "") -> dict[str, Any]:
    """One page of the workspace's keys (those matching `query`), with search and paging."""
    blocks: list[Block | dict[str, Any]] = [
        HeaderBlock(text=plain("Workspace keys", HEADER_TEXT)),
        ContextBlock(elements=[md(
            "You see this as an admin of this workspace: the keys stored with getkey here, "
            "a page at a time. Values are never shown. Every change you make is recorded in "
            "the audit trail."
        )]),
        ActionsBlock(elements=[
            ButtonElement(text="Back to your keys", action_id=ids.ADMIN_BACK),
            ButtonElement(text="Workspace settings", action_id=ids.ADMIN_SETTINGS),
        ]),
        SectionBlock(text=md(defaults_summary(defaults))),
        DividerBlock(),
    ]  # fmt: skip
    if not page.total and not query:
        blocks.append(SectionBlock(text=md("No key is stored with getkey in this workspace.")))
    else:
        blocks.append(paging.search_block(ids.ADMIN_SEARCH, ids.ADMIN_SEARCH_BLOCK, query))
        blocks.append(ContextBlock(elements=[md(paging.summary(page, query))]))
    for info in page.infos:
        blocks.append(
            SectionBlock(text=md(f"{admin_line(info)}\n{status_context(info, dates=True)}"))
        )
        blocks.append(admin_row_actions(info))
    blocks += paging.nav_blocks(page, query, ids.ADMIN_PAGE, "getkey.admin.nav")
    return {
        "type": "home",
        "private_metadata": paging.state(query, page.offset),
        "blocks": [b if isinstance(b, dict) else b.to_dict() for b in blocks],
    }


def admin_row_actions(info: CredentialInfo) -> ActionsBlock:
    """Reassign and Delete for one credential, each behind Slack's confirm dialog."""
    return ActionsBlock(
        block_id=ids.admin_row_block(info.id),
        elements=[
            UserSelectElement(
                action_id=ids.ADMIN_REASSIGN,
                placeholder=plain("Reassign to…", 150),
                confirm=confirm_dialog(
                    "Reassign this key?",
                    "The person you picked becomes its owner and gets its reminders. The "
                    "previous owner no longer can act on it.",
                    "Reassign",
                    deny="Cancel",
                ),
            ),
            ButtonElement(
                text="Delete",
                action_id=ids.ADMIN_DELETE,
                value=info.id,
                style="danger",
                confirm=confirm_dialog(
                    "Delete this key?",
                    clip(
                        f"getkey will forget the {flow_name(info.platform)} key for "
                        f"{store_of(info)}. The key keeps working on the platform "
                        "until it is revoked there.", 300,
                    ),
                    "Delete",
                    danger=True,
                ),
            ),
        ],
    )  # fmt: skip


def _period_options(days: int | None) -> tuple[list[Option], Option]:
    """The rotation periods to pick from (the workspace's own, if unusual) and the current."""
    default_period = Option(text="Each platform's own period", value=ids.ROTATION_DEFAULT)
    periods = [default_period] + [
        Option(text=f"Every {d} days", value=str(d)) for d in ROTATION_CHOICES
    ]
    if days and days not in ROTATION_CHOICES:
        periods.append(Option(text=f"Every {days} days", value=str(days)))
    return periods, next((o for o in periods if o.value == str(days)), default_period)


def _purpose_input(purpose: str | None) -> InputBlock:
    options = [Option(text=clip(f"{p.label} ({p.jobs})", OPTION_TEXT), value=str(p))
               for p in Purpose]
    chosen = str(Purpose.parse(purpose, Purpose.READ))
    return InputBlock(
        block_id=ids.ADMIN_PURPOSE_BLOCK, label=plain("What keys are for, by default", LABEL_TEXT),
        element=StaticSelectElement(action_id=ids.FIELD_VALUE, options=options,
                                    initial_option=next(o for o in options if o.value == chosen)),
        hint=plain("What the key form starts on; each person can still choose.", LABEL_TEXT),
    )  # fmt: skip


def settings_modal(defaults: Defaults, groups: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The workspace defaults: who the admins are, the rotation period, the platforms offered,
    what keys are for and whom people ask for help."""
    slack_admins = Option(text="Slack's owners and admins", value=ids.SLACK_ADMINS)
    group_options = [slack_admins] + [
        Option(text=clip(name, OPTION_TEXT), value=gid) for gid, name in groups[:99]
    ]
    group_initial = next(
        (o for o in group_options if o.value == defaults.admin_group), slack_admins
    )
    periods, period_initial = _period_options(defaults.rotation_days)
    flows = catalog.all_flows()[:100]
    platform_options = [Option(text=clip(f.name, OPTION_TEXT), value=f.id) for f in flows]
    chosen = [o for o in platform_options if defaults.platforms and o.value in defaults.platforms]
    blocks: list[Block] = [
        InputBlock(
            block_id=ids.ADMIN_GROUP_BLOCK,
            label=plain("Who are getkey's admins here", LABEL_TEXT),
            element=StaticSelectElement(
                action_id=ids.FIELD_VALUE, options=group_options, initial_option=group_initial
            ),
            hint=plain("Admins see every key of the workspace and get the reminders of people "
                       "who left.", LABEL_TEXT),
        ),
        InputBlock(
            block_id=ids.ADMIN_ROTATION_BLOCK,
            label=plain("Default rotation reminder", LABEL_TEXT),
            element=StaticSelectElement(
                action_id=ids.FIELD_VALUE, options=periods, initial_option=period_initial
            ),
            hint=plain("What the key form offers by default; each person can still choose.",
                       LABEL_TEXT),
        ),
        InputBlock(
            block_id=ids.ADMIN_PLATFORMS_BLOCK,
            label=plain("Platforms offered", LABEL_TEXT),
            element=StaticMultiSelectElement(
                action_id=ids.FIELD_VALUE,
                options=platform_options,
                initial_options=chosen or None,
                placeholder=plain("All platforms", 150),
            ),
            hint=plain("Leave empty to offer every platform.", LABEL_TEXT),
            optional=True,
        ),
        _purpose_input(defaults.purpose),
        *contact_inputs(defaults.support_contact),
    ]  # fmt: skip
    return View(
        type="modal",
        callback_id=ids.ADMIN_SETTINGS_VIEW,
        title=plain("Workspace settings", TITLE_TEXT),
        submit=plain("Save", TITLE_TEXT),
        close=plain("Cancel", TITLE_TEXT),
        blocks=blocks,
    ).to_dict()


def read_purpose(state: Mapping[str, Any]) -> str | None:
    """The default purpose picked in the settings (None: none picked)."""
    found = (state.get(ids.ADMIN_PURPOSE_BLOCK) or {}).get(ids.FIELD_VALUE)
    picked = found.get("selected_option") if isinstance(found, Mapping) else None
    return str(picked.get("value") or "") or None if isinstance(picked, Mapping) else None


def read_settings(state: Mapping[str, Any]) -> tuple[str | None, str | None, list[str] | None]:
    """(admin group or None, rotation days or None, platform ids or None) from the modal."""

    def element(block: str) -> Mapping[str, Any]:
        found = (state.get(block) or {}).get(ids.FIELD_VALUE)
        return found if isinstance(found, Mapping) else {}

    group = str((element(ids.ADMIN_GROUP_BLOCK).get("selected_option") or {}).get("value") or "")
    period = str(
        (element(ids.ADMIN_ROTATION_BLOCK).get("selected_option") or {}).get("value") or ""
    )
    picked = element(ids.ADMIN_PLATFORMS_BLOCK).get("selected_options")
    platforms = (
        [str(o.get("value")) for o in picked if isinstance(o, Mapping)]
        if isinstance(picked, list) and picked
        else None
    )
    return (
        None if group in ("", ids.SLACK_ADMINS) else group,
        None if period in ("", ids.ROTATION_DEFAULT) else period,
        platforms,
    )


def admin_copy(info: CredentialInfo, message: Mapping[str, Any]) -> dict[str, Any]:
    """The admins' copy of a message meant for an owner who left: why they get it, the
    message itself without the owner's buttons, and Take over."""
    why = (
        f"<@{info.user_id}> can no longer receive messages (deactivated or gone), so this "
        "reminder about their key comes to you as a workspace admin. *Take over* to become its "
        "owner: its reminders then come to you."
    )
    kept = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    blocks = [
        SectionBlock(text=md(why)).to_dict(),
        *kept,
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Take over", action_id=ids.TAKE_OVER, value=info.id, style="primary"
                )
            ]
        ).to_dict(),
    ]
    text = f"For admins: {flow_name(info.platform)} key of <@{info.user_id}>, who left. " + str(
        message.get("text") or ""
    ).replace("Your ", "The ", 1)
    return {**message, "text": text, "blocks": blocks[:50]}


def taken_over_message(info: CredentialInfo, by: str) -> dict[str, Any]:
    line = f"*{flow_name(info.platform)}* · {escape(store_of(info))}"
    note = f"<@{by}> took this key over: its reminders now go to them."
    return {"text": note, "blocks": [SectionBlock(text=md(f"{line}\n{note}")).to_dict()]}
