"""/getkey [help | list | delete [n] | <platform or alias>].

Answers that need no I/O go back in the ack itself (instant, ephemeral, works in any channel,
even ones the bot is not in). Answers that read the database ack first and follow through
`respond` (the response_url), which is also ephemeral and channel-independent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import user_and_team
from bot.services import Services
from bot.ui import messages
from bot.ui.modals import confirm_delete_view
from bot.ui.text import escape, row_label
from flows import catalog

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "?", "-h", "--help"}
LIST_WORDS = {"list", "ls", "keys"}
DELETE_WORDS = {"delete", "remove", "rm"}


def answer_platform(ack: Ack, name: str) -> None:
    flow = catalog.get(name)
    if flow is not None:
        ack(
            response_type="ephemeral",
            text=messages.guide_text(flow),
            blocks=messages.guide_blocks(flow),
        )
        return
    suggestions = catalog.suggest(name)
    ack(
        response_type="ephemeral",
        text=messages.unknown_text(name, suggestions),
        blocks=messages.unknown_blocks(name, suggestions),
    )


def show_list(services: Services, body: dict[str, Any], respond: Respond) -> None:
    team_id, user_id = user_and_team(body)
    infos = services.store.list_for_user(team_id, user_id)
    respond(
        response_type="ephemeral",
        replace_original=False,
        text=messages.list_text(infos),
        blocks=messages.list_blocks(infos),
    )


def start_delete(
    services: Services,
    body: dict[str, Any],
    argument: str,
    respond: Respond,
    client: WebClient,
) -> None:
    team_id, user_id = user_and_team(body)
    infos = services.store.list_for_user(team_id, user_id)
    if not infos:
        respond(response_type="ephemeral", text="You have no stored keys to delete.")
        return
    if not argument and len(infos) > 1:
        respond(
            response_type="ephemeral",
            text="Which key? Press Delete next to it, or type `/getkey delete <number>`.",
            blocks=messages.list_blocks(infos),
        )
        return
    if argument and not (argument.isdigit() and 1 <= int(argument) <= len(infos)):
        respond(
            response_type="ephemeral",
            text=(
                f"There is no key number {escape(argument[:20])}: you have {len(infos)}. "
                "`/getkey list` shows them numbered."
            ),
        )
        return
    info = infos[int(argument) - 1] if argument else infos[0]
    client.views_open(
        trigger_id=body["trigger_id"],
        view=confirm_delete_view(info.id, row_label(info), body.get("channel_id")),
    )


def _guarded(what: str, respond: Respond, work: Callable[[], None]) -> None:
    """Run DB-backed work after the ack; a failure becomes one actionable sentence."""
    try:
        work()
    except SlackApiError as exc:
        log.warning("slack call failed", extra={"what": what, "error": exc.response.get("error")})
    except Exception as exc:
        log.error("command failed", extra={"what": what, "error": type(exc).__name__})
        respond(
            response_type="ephemeral",
            text="getkey could not read your stored keys just now. Please try again in a minute.",
        )


def register(app: App, services: Services) -> None:
    @app.command("/getkey")
    def getkey(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = " ".join((body.get("text") or "").split())
        first, _, rest = text.partition(" ")
        word = first.lower()
        if text.lower() in HELP_WORDS:
            ack(response_type="ephemeral", text=messages.help_text(),
                blocks=messages.help_blocks())
        elif word in LIST_WORDS and not rest:
            ack()
            _guarded("list", respond, lambda: show_list(services, body, respond))
        elif word in DELETE_WORDS:
            ack()
            _guarded(
                "delete",
                respond,
                lambda: start_delete(services, body, rest.strip(), respond, client),
            )
        else:
            answer_platform(ack, text)
