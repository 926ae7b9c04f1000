"""A workspace's support contact: whom people ask when getkey cannot help (issue 19).

Stored as one short string with its kind in front, so every surface renders it the same way:
`user:U123`, `channel:C123`, `url:https://…` or `email:name@example.com`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"[^@\s<>|]+@[^@\s<>|]+\.[A-Za-z]{2,}")
_URL = re.compile(r"https://[^\s<>|]+")
_SLACK_ID = re.compile(r"[A-Z0-9]{6,20}")


class ContactError(ValueError):
    """The message says what a contact may be."""


def parse_contact(user: str | None = None, channel: str | None = None,
                  text: str | None = None) -> str | None:
    """The first of a chosen person, a chosen channel, or a typed URL/email; None: no
    contact. ContactError for typed text that is neither."""
    if user and _SLACK_ID.fullmatch(user):
        return f"user:{user}"
    if channel and _SLACK_ID.fullmatch(channel):
        return f"channel:{channel}"
    typed = (text or "").strip().removeprefix("mailto:")
    if not typed:
        return None
    if _URL.fullmatch(typed) and len(typed) <= 290:
        return f"url:{typed}"
    if _EMAIL.fullmatch(typed) and len(typed) <= 290:
        return f"email:{typed}"
    raise ContactError(
        "Give an https:// address or an email address, or pick a person or a channel."
    )


def split_contact(stored: str | None) -> tuple[str, str] | None:
    """(kind, value) of a stored contact, None when there is none (or it is unreadable)."""
    kind, _, value = (stored or "").partition(":")
    if kind in ("user", "channel", "url", "email") and value:
        return kind, value
    return None


# What an admin says the contact is (bot.slack.ui.admin offers exactly these).
NO_CONTACT, PERSON, CHANNEL, ADDRESS = "none", "user", "channel", "address"


@dataclass(frozen=True)
class ContactChoice:
    """The settings' answer: which kind of contact, and the three inputs; only the input of
    the chosen kind counts, so "nobody" clears a contact whatever the inputs still hold."""

    kind: str = NO_CONTACT
    user: str | None = None
    channel: str | None = None
    text: str | None = None


def chosen_contact(choice: ContactChoice) -> str | None:
    """The stored form of what the admin chose; ContactError says what is missing or wrong."""
    if choice.kind == PERSON:
        if not choice.user or not _SLACK_ID.fullmatch(choice.user):
            raise ContactError("Pick the person people should ask.")
        return parse_contact(user=choice.user)
    if choice.kind == CHANNEL:
        if not choice.channel or not _SLACK_ID.fullmatch(choice.channel):
            raise ContactError("Pick the channel people should ask in.")
        return parse_contact(channel=choice.channel)
    if choice.kind == ADDRESS:
        if not (choice.text or "").strip():
            raise ContactError("Type an https:// address or an email address.")
        return parse_contact(text=choice.text)
    return None
