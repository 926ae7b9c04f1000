"""What an outbox intent (bot.store.outbox) says when it is finally sent: one function over the
three surfaces that own the words (stored-key DMs, reminders, requests), so none of them needs
to import another."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.slack.ui.messages import dm_blocks, dm_text
from bot.slack.ui.reminders import OWED_STAGES, reminder_message
from bot.slack.ui.requests import request_owed
from bot.vocabulary import OutboxKind
from flows import catalog
from flows.base import VerifyResult

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo
    from bot.store.requests import RequestInfo


def owed_message(
    kind: str,
    info: CredentialInfo | None,
    now: datetime,
    *,
    request: RequestInfo | None = None,
    contact: str | None = None,
) -> dict[str, Any] | None:
    """What an outbox intent (bot.store.outbox) says when it is sent, rendered from the
    credential (and, for the 'request-*' kinds, the request) as it is now; `contact`: the
    workspace's support contact, where the message names one. None when there is nothing
    left to say."""
    if request is not None:
        return request_owed(kind, request, info, now, contact=contact)
    if info is None:
        return None
    if kind in OWED_STAGES:
        return reminder_message(info, OWED_STAGES[kind], now)
    flow = catalog.get(info.platform)
    if kind in (OutboxKind.STORED, OutboxKind.REPLACED) and flow is not None:
        result = VerifyResult(ok=True, missing=tuple(info.missing or ()))
        return {
            "text": dm_text(flow, info),
            "blocks": dm_blocks(flow, info, result, replaced=kind == OutboxKind.REPLACED),
        }
    return None
