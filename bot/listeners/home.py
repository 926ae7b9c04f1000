"""The App Home tab: the person's stored keys, their status, and the reminder buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ui.home import home_view

log = logging.getLogger(__name__)


def publish_home(client: WebClient, store: Any, team_id: str, user_id: str) -> None:
    credentials = store.list_for_user(team_id, user_id)
    view = home_view(credentials)
    client.views_publish(user_id=user_id, view=view)


def register(app: Any, services: Any) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], context: Any, client: WebClient) -> None:
        # The Messages tab fires the same event; only the Home tab needs a view.
        if event.get("tab", "home") != "home":
            return
        user_id = event.get("user") or context.get("user_id")
        team_id = context.get("team_id") or event.get("view", {}).get("team_id")
        if not user_id or not team_id:
            return
        try:
            publish_home(client, services.store, team_id, user_id)
        except SlackApiError as exc:
            log.warning("views.publish failed", extra={"error": exc.response.get("error")})
