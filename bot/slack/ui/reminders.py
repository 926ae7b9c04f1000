"""Reminder DMs: why this message now, the credential's status, and the buttons (Rotate now,
Snooze, Stop reminding, Delete) that the DM and the Home tab share.

Dates are Slack `<!date>` tokens, so each person reads them in their own time zone.
Nothing here sees a secret: it works on CredentialInfo (masked value only).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    SectionBlock,
)

from bot.slack.ui import ids
from bot.slack.ui.ending import still_needed_message
from bot.slack.ui.text import (
    SECTION_TEXT,
    aware,
    clip,
    confirm_dialog,
    credential_line,
    dicts,
    escape,
    flow_name,
    md,
    slack_day,
    slack_moment,
    status_label,
    store_of,
)
from bot.store.schedule import END_ASK
from bot.vocabulary import CredentialStatus, OutboxKind, Stage, StageKind
from flows.purpose import Purpose

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo

_REPLACE = "Replace it now so nothing that uses it breaks."


def stage_reason(info: CredentialInfo, stage: Stage | str, now: datetime) -> str:
    """Why this message, now, in words the person can act on."""
    stage = Stage.parse(stage) if isinstance(stage, str) else stage
    detail = f" {info.detail}" if info.detail else ""
    if stage.kind is StageKind.FAILING and info.missing:
        job = Purpose.parse(info.purpose, Purpose.READ)
        return (
            "This key still opens the store, but *no longer has the permissions its job "
            f"needs* ({job.label.lower()}: {job.jobs})." + detail + " Anything that needs them "
            "will fail until they are granted again: rotate it now with a key that has them, "
            "or delete it if it is no longer needed."
        )
    if stage.kind is StageKind.FAILING:
        return (
            "This key *no longer works* (revoked? rotated elsewhere?)." + detail + " "
            "Anything that uses it will fail until it is replaced: rotate it now, or delete it "
            "if it is no longer needed."
        )
    if stage.kind is StageKind.RENEW_FAILED:
        return (
            "getkey could not refresh this connection, so it will stop working when its "
            "current token expires." + detail + " Connect it again with *Rotate now*."
        )
    if stage.kind is StageKind.EXPIRY and info.expires_at:
        return _expiry_reason(info.expires_at, stage.days, now)
    if stage.kind is StageKind.ROTATION and info.rotation_due_at:
        since = slack_day(info.rotation_due_at)
        period = f"every {info.rotation_days} days" if info.rotation_days else "regularly"
        if stage.weeks == 0:
            return (
                f"It is *due for rotation* as of {since}: keys like this one should be replaced "
                f"{period}. Generate a new one on the platform, then press *Rotate now*."
            )
        weeks = max(1, (now - aware(info.rotation_due_at)).days // 7)
        plural = "week" if weeks == 1 else "weeks"
        return (
            f"Rotation is *overdue*: due since {since} ({weeks} {plural} ago). "
            "Generate a new key on the platform, then press *Rotate now*."
        )
    return "It needs your attention."


def _expiry_reason(expires_at: datetime, days: int | None, now: datetime) -> str:
    when = slack_moment(expires_at)
    if aware(expires_at) <= now:
        return f"It *expired* on {when}. {_REPLACE}"
    if days is None:
        return f"It *expires at {when}*, in a few minutes. {_REPLACE}"
    if days == 0:
        return f"It *expires today*, {when}. {_REPLACE}"
    plural = "day" if days == 1 else "days"
    return (
        f"It *expires on {when}*, in {days} {plural}. Replace it before then so nothing "
        "that uses it breaks."
    )


def reminder_text(info: CredentialInfo, stage: Stage | str, now: datetime) -> str:
    """The notification text (shown in the push notification and by screen readers)."""
    stage = Stage.parse(stage) if isinstance(stage, str) else stage
    heads = {
        StageKind.FAILING: "no longer works",
        StageKind.RENEW_FAILED: "could not be refreshed",
        StageKind.EXPIRY: "expires soon",
        StageKind.ROTATION: "is due for rotation",
    }
    head = heads[stage.kind]
    if stage.kind is StageKind.FAILING and info.missing:
        head = "no longer has the permissions its job needs"
    if stage.kind is StageKind.EXPIRY and info.expires_at and aware(info.expires_at) <= now:
        head = "has expired"
    return (
        f"Your {flow_name(info.platform)} key for {store_of(info)} ({info.masked}) {head}."
    )


def credential_buttons(info: CredentialInfo, *, block_id: str | None = None) -> ActionsBlock:
    """A key someone provided at the owner's request is renewed by asking them again (the
    owner usually cannot create it): "Ask for a new one" replaces "Rotate now"."""
    value = info.id
    renew = (
        ButtonElement(
            text="Ask for a new one",
            action_id=ids.REQUEST_ASK_AGAIN,
            value=value,
            style="primary",
        )
        if info.provided_by
        else ButtonElement(
            text="Rotate now", action_id=ids.REMINDER_ROTATE, value=value, style="primary"
        )
    )
    return ActionsBlock(
        block_id=block_id,
        elements=[
            renew,
            ButtonElement(text="Snooze 1 day", action_id=ids.REMINDER_SNOOZE_DAY, value=value),
            ButtonElement(text="Snooze 1 week", action_id=ids.REMINDER_SNOOZE_WEEK, value=value),
            ButtonElement(text="Stop reminding", action_id=ids.REMINDER_STOP, value=value),
            ButtonElement(
                text="Delete",
                action_id=ids.REMINDER_DELETE,
                value=value,
                style="danger",
                confirm=confirm_dialog(
                    "Delete this key?",
                    f"getkey will forget the {flow_name(info.platform)} key for "
                    f"{clip(store_of(info), 120)} ({info.masked}). The key itself "
                    "keeps working on the platform until you revoke it there.",
                    "Delete",
                    danger=True,
                ),
            ),
        ],
    )


def status_context(info: CredentialInfo, *, dates: bool = False) -> str:
    """One mrkdwn line: status, then the dates that matter (all of them when `dates`)."""
    parts = [status_label(info.status)]
    if dates and info.expires_at:
        parts.append(f"expires {slack_day(info.expires_at)}")
    if dates and info.rotation_due_at:
        parts.append(f"rotation due {slack_day(info.rotation_due_at)}")
    checked = info.last_checked_at or info.verified_at
    if checked:
        parts.append(f"last checked {slack_day(checked)}")
    if info.reminders_stopped:
        parts.append("reminders stopped")
    elif info.snoozed_until:
        parts.append(f"snoozed until {slack_moment(info.snoozed_until)}")
    elif info.next_reminder_at:
        parts.append(f"next reminder {slack_day(info.next_reminder_at)}")
    if dates and info.status == CredentialStatus.FAILING and info.detail:
        parts.append(escape(clip(info.detail, 300)))
    return " · ".join(parts)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def buttons_dict(info: CredentialInfo) -> dict[str, Any]:
    """credential_buttons(info).to_dict() built directly: the sweep renders one per reminder,
    and slack_sdk's model classes were a quarter of its time (same dict; tested)."""
    value = info.id

    def button(text: str, action_id: str, style: str | None = None) -> dict[str, Any]:
        out = {"type": "button", "text": _plain(text), "action_id": action_id, "value": value}
        return {**out, "style": style} if style else out

    delete = button("Delete", ids.REMINDER_DELETE, "danger")
    delete["confirm"] = {
        "title": _plain("Delete this key?"),
        "text": {"type": "plain_text", "text": (
            f"getkey will forget the {flow_name(info.platform)} key for "
            f"{clip(store_of(info), 120)} ({info.masked}). The key itself "
            "keeps working on the platform until you revoke it there."
        )},
        "confirm": _plain("Delete"),
        "deny": _plain("Keep it"),
        "style": "danger",
    }  # fmt: skip
    renew = (
        button("Ask for a new one", ids.REQUEST_ASK_AGAIN, "primary") if info.provided_by
        else button("Rotate now", ids.REMINDER_ROTATE, "primary")
    )  # fmt: skip
    return {"type": "actions", "elements": [
        renew,
        button("Snooze 1 day", ids.REMINDER_SNOOZE_DAY),
        button("Snooze 1 week", ids.REMINDER_SNOOZE_WEEK),
        button("Stop reminding", ids.REMINDER_STOP),
        delete,
    ]}  # fmt: skip


def reminder_message(
    info: CredentialInfo, stage: Stage | str, now: datetime, note: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage (without channel). `note`: a sentence from the
    platform side, e.g. why getkey could not renew this token by itself. Plain dicts: one is
    built per reminder sent."""
    if stage == END_ASK:
        return still_needed_message(info, now)
    texts = [f"{credential_line(info)}\n{stage_reason(info, stage, now)}"]
    if note:
        texts.append(escape(clip(note, 1000)))
    if info.provided_by:
        texts.append(
            f"<@{info.provided_by}> provided this key at your request: press *Ask for "
            "a new one* and getkey asks them again (same platform, same note)."
        )
    blocks = [{"type": "section", "text": _mrkdwn(t)} for t in texts]
    blocks += [
        {"type": "context", "elements": [_mrkdwn(status_context(info))]},
        buttons_dict(info),
    ]
    return {
        "text": reminder_text(info, stage, now),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def acted_message(info: CredentialInfo | None, note: str) -> dict[str, Any]:
    """Replaces a reminder DM once a button has been used, so old buttons cannot be pressed
    twice and the conversation shows what was done."""
    line = credential_line(info) if info else "This key"
    return {"text": note, "blocks": dicts([SectionBlock(text=md(f"{line}\n{note}"))])}


def snoozed_note(until: datetime) -> str:
    return (
        f"Snoozed: the next reminder comes on {slack_moment(until)}. "
        "Replace the key before then if you can."
    )


# Outbox kinds (bot.store.outbox) that are reminder-style DMs, worded as that stage.
OWED_STAGES = {
    OutboxKind.FAILING: Stage(StageKind.FAILING),
    OutboxKind.RENEW_FAILED: Stage(StageKind.RENEW_FAILED),
}
