"""Slack's limits and the small text helpers every surface uses: escaping, clipping, dates, and
how a stored credential is named.

Dates use Slack's `<!date^…>` formatting: each reader sees them in their own time zone and
locale, so getkey never needs to know where a person is. The fallback (shown by clients that
cannot format dates) is in UTC and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import Block, ConfirmObject, MarkdownTextObject, PlainTextObject

from bot.wording import escape
from flows import catalog

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo

# Slack limits (shared/slack-notes.md)
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
TITLE_TEXT = 24
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
ID_LENGTH = 255
INPUT_MAX = 3000
LABEL_TEXT = 2000
PLACEHOLDER_TEXT = 150
METADATA = 3000
VIEW_BYTES = 250_000
SELECT_OPTIONS = 100

PRIVACY_NOTE = "Only you can see this."


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def confirm_dialog(
    title: str, text: str, confirm: str, *, deny: str = "Keep it", danger: bool = False
) -> ConfirmObject:
    """A button's "are you sure?" dialog. Plain text: a store name in it cannot become a
    mention or a link."""
    return ConfirmObject(
        title=title, text=PlainTextObject(text=text), confirm=confirm, deny=deny,
        style="danger" if danger else None,
    )  # fmt: skip


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, SECTION_TEXT))


def plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit), emoji=True)


def chunks(lines: Iterable[str], limit: int = SECTION_TEXT) -> list[str]:
    """Join lines into as few texts as fit the section limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


# -- dates ------------------------------------------------------------------------------------
def aware(when: datetime) -> datetime:
    # The store promises aware UTC; SQLite may hand back naive values, which are UTC too.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _slack_date(when: datetime, token: str, fallback: str) -> str:
    return f"<!date^{int(aware(when).timestamp())}^{token}|{fallback}>"


def slack_date(when: datetime | None, missing: str = "—") -> str:
    """A short date, e.g. "Feb 14, 2030" in the reader's own time zone."""
    if when is None:
        return missing
    return _slack_date(when, "{date_short}", aware(when).astimezone(UTC).date().isoformat())


def slack_day(when: datetime) -> str:
    """A long date, e.g. "Thursday, February 14th, 2030" in the reader's own time zone."""
    utc = aware(when).astimezone(UTC)
    return _slack_date(when, "{date_long}", f"{utc:%A} {utc.day} {utc:%B %Y}")


def slack_moment(when: datetime) -> str:
    """A long date and time in the reader's own time zone."""
    utc = aware(when).astimezone(UTC)
    fallback = f"{utc:%A} {utc.day} {utc:%B %Y} at {utc:%H:%M} UTC"
    return _slack_date(when, "{date_long} at {time}", fallback)


# -- naming a stored credential (never its secret) ---------------------------------------------
@cache
def flow_name(platform_id: str) -> str:
    # Cached: a sweep names a platform in every reminder, and the catalog normalises the id
    # with a regular expression each time. Platform ids are a short, fixed list.
    flow = catalog.get(platform_id)
    return flow.name if flow else platform_id


def store_of(info: CredentialInfo) -> str:
    return info.store_name or info.identity


def status_label(status: str) -> str:
    return {
        "verified": ":large_green_circle: verified",
        "failing": ":red_circle: failing",
        "expiring": ":large_orange_circle: expiring soon",
        "expired": ":black_circle: expired",
    }.get(status, status)


def row_label(info: CredentialInfo) -> str:
    """A short plain-text description of a stored credential (escape it for mrkdwn)."""
    return clip(f"{flow_name(info.platform)} · {store_of(info)} · {info.masked}", 200)


def credential_line(info: CredentialInfo) -> str:
    """mrkdwn: which credential, by platform, store and masked value."""
    return f"*{flow_name(info.platform)}* · {escape(store_of(info))} · `{info.masked}`"
