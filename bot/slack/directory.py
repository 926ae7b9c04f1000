"""bot.services.admins' Directory port over Slack's Web API (users:read, usergroups:read)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admins import DirectoryError, Person
from bot.slack.client import NotInstalled

# users.list pages; a workspace of many thousands costs a few calls per cache period.
PAGE = 200
MAX_PAGES = 50


def _person(user: dict[str, Any]) -> Person:
    return Person(
        user_id=str(user.get("id") or ""),
        is_admin=bool(user.get("is_admin")),
        is_owner=bool(user.get("is_owner") or user.get("is_primary_owner")),
        deleted=bool(user.get("deleted")),
        is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
    )


class SlackDirectory:
    def __init__(self, client_for: Callable[[str], Awaitable[AsyncWebClient]]) -> None:
        self.client_for = client_for

    async def _call(self, team_id: str, method: str, **params: Any) -> dict[str, Any]:
        try:
            client = await self.client_for(team_id)
            # Arguments in the query string: these read methods take no JSON body.
            response = await client.api_call(method, params=params)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if method == "users.info" and error in ("user_not_found", "users_not_found"):
                return {}
            raise DirectoryError(f"{method}: {error or exc.response.status_code}") from None
        except NotInstalled:
            raise DirectoryError(f"{method}: workspace not installed") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DirectoryError(f"{method}: {type(exc).__name__}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def person(self, team_id: str, user_id: str) -> Person | None:
        data = await self._call(team_id, "users.info", user=user_id)
        user = data.get("user")
        return _person(user) if isinstance(user, dict) else None

    async def admins(self, team_id: str) -> list[Person]:
        found: list[Person] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE}
            if cursor:
                params["cursor"] = cursor
            data = await self._call(team_id, "users.list", **params)
            for user in data.get("members") or []:
                if isinstance(user, dict):
                    person = _person(user)
                    if (person.is_admin or person.is_owner) and not person.deleted:
                        found.append(person)
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return found

    async def group_members(self, team_id: str, group_id: str) -> list[str]:
        data = await self._call(team_id, "usergroups.users.list", usergroup=group_id)
        return [str(u) for u in data.get("users") or [] if isinstance(u, str)]

    async def groups(self, team_id: str) -> list[tuple[str, str]]:
        data = await self._call(team_id, "usergroups.list")
        return [
            (str(g.get("id")), str(g.get("name") or g.get("handle") or g.get("id")))
            for g in data.get("usergroups") or []
            if isinstance(g, dict) and g.get("id") and not g.get("date_delete")
        ]
