"""The App Home tab: the person's stored keys, their status, the reminder buttons and Done."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.slack.ui import ids, paging
from bot.slack.ui.ending import done_button
from bot.slack.ui.links import home_link_button
from bot.slack.ui.reminders import credential_buttons, status_context
from bot.slack.ui.requests import provided_rows, request_rows
from bot.slack.ui.text import HEADER_TEXT, VIEW_BLOCKS, credential_line, md, plain

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo
    from bot.store.listing import Page
    from bot.store.requests import RequestInfo

# A Home tab holds at most 100 blocks: each credential takes three, a page holds
# paging.HOME_PAGE of them, and requests and provided keys come after.


def home_view(
    page: Page,
    requests: Sequence[RequestInfo] = (),
    provided: Sequence[tuple[RequestInfo, CredentialInfo]] = (),
    query: str = "",
) -> dict[str, Any]:
    """One page of the person's keys (those matching `query` when given), with a search field
    and Previous/Next. `requests`: the person's own requests to others; `provided`: keys
    they provided to others, still stored (each with a Withdraw button)."""
    blocks: list[Block | dict[str, Any]] = [
        HeaderBlock(text=plain("Your stored keys", HEADER_TEXT)),
        SectionBlock(
            block_id="home.ask",
            text=md("Someone else holds the key? Ask them: getkey stores it for you."),
            accessory=ButtonElement(text="Ask someone for a key", action_id=ids.HOME_ASK),
        ),
        SectionBlock(
            block_id="home.ask_link",
            text=md("The store's owner is not in this Slack? Send them a secure link."),
            accessory=home_link_button(),
        ),
    ]
    if not page.total and not query:
        blocks.append(
            SectionBlock(
                text=md(
                    "You have no keys stored with getkey yet. Type `/getkey` followed by a "
                    "platform name (for example `/getkey wix`) to get one, verify it and "
                    "have it kept safe, with a reminder before it needs replacing."
                )
            )
        )
    else:
        blocks.append(paging.search_block(ids.HOME_SEARCH, ids.HOME_SEARCH_BLOCK, query))
        blocks.append(ContextBlock(elements=[md(paging.summary(page, query))]))
    for info in page.infos:
        row = ids.home_row_block(info.id)
        blocks.append(SectionBlock(block_id=row, text=md(credential_line(info))))
        blocks.append(ContextBlock(elements=[md(status_context(info, dates=True))]))
        actions = credential_buttons(info, block_id=ids.home_actions_block(info.id))
        actions.elements.append(done_button(info))  # the job is over: forget it, revoke it
        blocks.append(actions)
    blocks += paging.nav_blocks(page, query, ids.HOME_PAGE, "getkey.home_nav")
    # Requests and provided keys come after the person's own keys; a Home tab holds 100 blocks.
    extra = [*request_rows(requests), *provided_rows(provided)]
    blocks += extra[: max(0, VIEW_BLOCKS - len(blocks))]
    return {
        "type": "home",
        "private_metadata": paging.state(query, page.offset),
        "blocks": [b if isinstance(b, dict) else b.to_dict() for b in blocks],
    }
