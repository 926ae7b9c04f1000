"""Block Kit for reminders: the reminder DM and the App Home tab.

Everything here is built from slack_sdk.models so Slack's limits are checked when the payload
is rendered. Nothing here ever sees a secret: it works on CredentialInfo (masked value only).
Times are rendered in the person's own time zone, which the caller looks up (users.info).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import clip, escape, flow_name, status_label

if TYPE_CHECKING:
    from bot.store.repository import CredentialInfo

# Action ids, one place. The value of every button is the credential id (never a secret).
ROTATE = "getkey_reminder_rotate"
SNOOZE_DAY = "getkey_reminder_snooze_1d"
SNOOZE_WEEK = "getkey_reminder_snooze_1w"
STOP = "getkey_reminder_stop"
DELETE = "getkey_reminder_delete"
ACTIONS = (ROTATE, SNOOZE_DAY, SNOOZE_WEEK, STOP, DELETE)
SNOOZES = {SNOOZE_DAY: timedelta(days=1), SNOOZE_WEEK: timedelta(weeks=1)}

# A Home tab holds at most 100 blocks; each credential takes three.
HOME_MAX_CREDENTIALS = 30

# Reasons that are not schedule stages but still produce the same DM with the same buttons.
FAILING = "failing"
REFRESH_FAILED = "refresh-failed"


# -- time zones -------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserZone:
    """Where the person is, from users.info: IANA name when usable, else Slack's fixed offset."""

    zone: tzinfo = UTC

    @classmethod
    def from_user_info(cls, user: dict[str, Any] | None) -> UserZone:
        user = user or {}
        name = user.get("tz")
        if isinstance(name, str) and name:
            try:
                return cls(ZoneInfo(name))
            except (ZoneInfoNotFoundError, ValueError):
                pass  # no tz database on this machine, or an odd name: use the offset
        offset = user.get("tz_offset")
        if isinstance(offset, int) and -86400 < offset < 86400:
            from datetime import timezone

            return cls(timezone(timedelta(seconds=offset)))
        return cls(UTC)

    def day(self, when: datetime) -> str:
        local = _aware(when).astimezone(self.zone)
        return f"{local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"

    def moment(self, when: datetime) -> str:
        local = _aware(when).astimezone(self.zone)
        return f"{self.day(when)} at {local.strftime('%H:%M')} {_zone_label(local)}"


def _aware(when: datetime) -> datetime:
    # The store promises aware UTC; SQLite may hand back naive values, which are UTC too.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _zone_label(local: datetime) -> str:
    name = local.tzname() or ""
    # Some zones have no abbreviation and tzname() is "+0530"; show it as UTC+05:30.
    if re.fullmatch(r"[+-]\d{2,4}", name) or (name.startswith("UTC") and len(name) > 3):
        offset = local.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return name or "UTC"


# -- wording ----------------------------------------------------------------------------------
def credential_line(info: CredentialInfo) -> str:
    """Which credential: platform, store, masked value."""
    store = info.store_name or info.identity
    return f"*{flow_name(info.platform)}* · {escape(store)} · `{info.masked}`"


def stage_reason(info: CredentialInfo, stage: str, zone: UserZone, now: datetime) -> str:
    """Why this message, now, in words the person can act on."""
    if stage == FAILING:
        detail = f" {info.detail}" if info.detail else ""
        return (
            "This key *no longer works* (revoked? rotated elsewhere?)." + detail + " "
            "Anything that uses it will fail until it is replaced: rotate it now, or delete it "
            "if it is no longer needed."
        )
    if stage == REFRESH_FAILED:
        detail = f" {info.detail}" if info.detail else ""
        return (
            "getkey could not refresh this connection, so it will stop working when its "
            "current token expires." + detail + " Connect it again with *Rotate now*."
        )
    if stage.startswith("expiry-") and info.expires_at:
        when = zone.moment(info.expires_at)
        if _aware(info.expires_at) <= now:
            return f"It *expired* on {when}. Replace it now so nothing that uses it breaks."
        days = stage.removeprefix("expiry-").removesuffix("d")
        if days == "soon":
            return (
                f"It *expires at {when}*, in a few minutes. Replace it now so nothing that uses "
                "it breaks."
            )
        if days == "0":
            return f"It *expires today*, {when}. Replace it now so nothing that uses it breaks."
        plural = "day" if days == "1" else "days"
        return (
            f"It *expires on {when}*, in {days} {plural}. Replace it before then so nothing "
            "that uses it breaks."
        )
    if stage.startswith("rotation") and info.rotation_due_at:
        since = zone.day(info.rotation_due_at)
        period = f"every {info.rotation_days} days" if info.rotation_days else "regularly"
        if stage == "rotation-due":
            return (
                f"It is *due for rotation* as of {since}: keys like this one should be replaced "
                f"{period}. Generate a new one on the platform, then press *Rotate now*."
            )
        weeks = max(1, (now - _aware(info.rotation_due_at)).days // 7)
        plural = "week" if weeks == 1 else "weeks"
        return (
            f"Rotation is *overdue*: due since {since} ({weeks} {plural} ago). "
            "Generate a new key on the platform, then press *Rotate now*."
        )
    return "It needs your attention."


def reminder_text(info: CredentialInfo, stage: str, zone: UserZone, now: datetime) -> str:
    """The notification text (shown in the push notification and by screen readers)."""
    store = info.store_name or info.identity
    head = {
        FAILING: "no longer works",
        REFRESH_FAILED: "could not be refreshed",
    }.get(stage)
    if head is None:
        head = "expires soon" if stage.startswith("expiry-") else "is due for rotation"
        if stage.startswith("expiry-") and info.expires_at and _aware(info.expires_at) <= now:
            head = "has expired"
    return f"Your {flow_name(info.platform)} key for {store} ({info.masked}) {head}."


# -- buttons ----------------------------------------------------------------------------------
def credential_buttons(info: CredentialInfo, *, block_id: str | None = None) -> ActionsBlock:
    value = info.id
    store = info.store_name or info.identity
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(text="Rotate now", action_id=ROTATE, value=value, style="primary"),
            ButtonElement(text="Snooze 1 day", action_id=SNOOZE_DAY, value=value),
            ButtonElement(text="Snooze 1 week", action_id=SNOOZE_WEEK, value=value),
            ButtonElement(text="Stop reminding", action_id=STOP, value=value),
            ButtonElement(
                text="Delete",
                action_id=DELETE,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Delete this key?",
                    # Plain text: a store name in it cannot become a mention or a link.
                    text=PlainTextObject(
                        text=(
                            f"getkey will forget the {flow_name(info.platform)} key for "
                            f"{clip(store, 120)} ({info.masked}). The key itself keeps working "
                            "on the platform until you revoke it there."
                        )
                    ),
                    confirm="Delete",
                    deny="Keep it",
                    style="danger",
                ),
            ),
        ],
    )


# -- the reminder DM --------------------------------------------------------------------------
def reminder_message(
    info: CredentialInfo, stage: str, zone: UserZone, now: datetime
) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage (without channel)."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{credential_line(info)}\n{stage_reason(info, stage, zone, now)}"
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=_status_context(info, zone))]),
        credential_buttons(info),
    ]
    return {
        "text": reminder_text(info, stage, zone, now),
        "blocks": [b.to_dict() for b in blocks],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _status_context(info: CredentialInfo, zone: UserZone, *, dates: bool = False) -> str:
    parts = [status_label(info.status)]
    if dates and info.expires_at:
        parts.append(f"expires {zone.day(info.expires_at)}")
    if dates and info.rotation_due_at:
        parts.append(f"rotation due {zone.day(info.rotation_due_at)}")
    checked = info.last_checked_at or info.verified_at
    if checked:
        parts.append(f"last checked {zone.day(checked)}")
    if info.reminders_stopped:
        parts.append("reminders stopped")
    elif info.snoozed_until:
        parts.append(f"snoozed until {zone.moment(info.snoozed_until)}")
    elif info.next_reminder_at:
        parts.append(f"next reminder {zone.day(info.next_reminder_at)}")
    if dates and info.status == "failing" and info.detail:
        parts.append(escape(clip(info.detail, 300)))
    return " · ".join(parts)


def acted_message(info: CredentialInfo | None, note: str) -> dict[str, Any]:
    """Replaces a reminder DM once a button has been used, so old buttons cannot be pressed
    twice and the conversation shows what was done."""
    line = credential_line(info) if info else "This key"
    blocks = [SectionBlock(text=MarkdownTextObject(text=f"{line}\n{note}"))]
    return {"text": note, "blocks": [b.to_dict() for b in blocks]}


# -- App Home -----------------------------------------------------------------------------------
def home_view(credentials: Sequence[CredentialInfo], zone: UserZone) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your stored keys"))]
    if not credentials:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "You have no keys stored with getkey yet. Type `/getkey` followed by a "
                        "platform name (for example `/getkey wix`) to get one, verify it and "
                        "have it kept safe, with a reminder before it needs replacing."
                    )
                )
            )
        )
    for info in credentials[:HOME_MAX_CREDENTIALS]:
        blocks.append(
            SectionBlock(
                block_id=f"cred:{info.id}",
                text=MarkdownTextObject(text=credential_line(info)),
            )
        )
        context = _status_context(info, zone, dates=True)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
        blocks.append(credential_buttons(info, block_id=f"actions:{info.id}"))
    hidden = len(credentials) - HOME_MAX_CREDENTIALS
    if hidden > 0:
        blocks.append(DividerBlock())
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"…and {hidden} more. `/getkey list` shows every stored key."
                    )
                ]
            )
        )
    return View(type="home", blocks=blocks).to_dict()
