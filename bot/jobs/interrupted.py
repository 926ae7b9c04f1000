"""Verifications a crash interrupted: the person is told to submit again.

A submission's pending row (bot.store.pending) is written before the platform is asked and
removed with the outcome, so a row that outlives any real verification belongs to a process
that died. Its modal would say "Checking…" forever; instead it is replaced by a short note.
The unverified secret was only ever in the dead process's memory, so there is nothing to clean.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.slack.client import SlackClients
from bot.slack.ui.modals import done_view
from bot.workers import Workers

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

# Far longer than a verification can take (platform timeouts plus queueing).
STALE_AFTER = timedelta(minutes=2)
TRY_AGAIN = (
    "getkey restarted while it was checking your key, so the check did not finish and "
    "nothing was stored. Please open the form again (`/getkey` and the platform's name) "
    "and submit the key once more."
)


async def tell_interrupted(
    store: Store,
    clients: SlackClients,
    workers: Workers,
    *,
    older_than: timedelta = STALE_AFTER,
    now: datetime | None = None,
) -> int:
    """Replace the modal of every interrupted verification (unfinished for more than
    `older_than`); returns how many were told."""
    told = 0
    stale = await workers.quick(store.claim_stale_submissions, older_than, now=now)
    for pending in stale:
        client = await clients.for_team(pending.team_id)
        try:
            await client.views_update(
                view_id=pending.view_id, view=done_view("Please try again", TRY_AGAIN)
            )
            told += 1
        except SlackApiError as exc:
            # The modal was closed (or is too old for Slack): nobody is looking at it.
            log.info("interrupted view not updated", extra={"error": exc.response.get("error")})
        await workers.quick(store.submission_finished, pending.view_id)
    if told:
        log.warning("interrupted verifications reported", extra={"count": told})
    return told
