"""Bolt's way to a request's listener, made cheap (issue 21: a slash command cost 2.5 times a bare
Bolt app's CPU, most of it before any listener ran).

Bolt tries every listener in registration order until one matches, and asks each one's matcher
through its argument injection: every payload parsed ten ways, a `respond` and a `say` built,
only to pass the body. With forty listeners, a view submission paid for that forty times. Here:
- a request is only tried against the listeners registered for its kind (a slash command
  against `app.command` listeners, a button press against `app.action` ones...), in the same
  order; listeners of unknown kind (Bolt's own) are tried for every request, and a request of
  a kind not listed below against every listener, exactly as Bolt would;
- Bolt's built-in matchers are asked directly with the body they read;
- with one bot token (no OAuth) the requests of a workspace share one Slack client, the one
  Bolt would build for each of them (a copy per request only matters when each request sets
  its own token, as OAuth's do).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.listener_matcher.async_listener_matcher import AsyncListenerMatcher
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

# What each of Bolt's registrars can match, by payload type (Bolt's is_* tests in
# slack_bolt.request.payload_utils); "command" stands for a slash command (no type).
REQUEST_KINDS: dict[str, frozenset[str]] = {
    "command": frozenset({"command"}),
    "action": frozenset({"block_actions", "interactive_message", "dialog_submission",
                         "dialog_cancellation", "workflow_step_edit"}),
    "view": frozenset({"view_submission", "view_closed"}),
    "event": frozenset({"event_callback"}),
    "shortcut": frozenset({"shortcut", "message_action"}),
    "options": frozenset({"block_suggestion", "dialog_suggestion"}),
}  # fmt: skip
_KNOWN = frozenset().union(*REQUEST_KINDS.values())
# Attribute on a registered listener function naming its registrar (bot.slack.app.AfterAckApp).
KIND_ATTRIBUTE = "getkey_registrar"

MAX_TEAM_CLIENTS = 1000

_REQUEST_KIND: ContextVar[str | None] = ContextVar("getkey_request_kind", default=None)


def kind_of(body: Any) -> str | None:
    """The request's kind as REQUEST_KINDS spells it; None when it could be anything."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    if "command" in body:
        return "command" if kind is None else None
    return kind if isinstance(kind, str) and kind in _KNOWN else None


class BodyMatcher(AsyncListenerMatcher):
    """One of Bolt's built-in tests (`app.action("…")`), given the body it reads."""

    def __init__(self, test: Callable[[Any], Awaitable[bool]]) -> None:
        self.test = test

    async def async_matches(self, req: AsyncBoltRequest, resp: BoltResponse) -> bool:
        return await self.test(req.body)


class ListenersByKind(list[AsyncListener]):
    """Bolt's list of listeners; iterated during a dispatch (IndexedApp), it yields only those
    that can match the request's kind, in registration order."""

    def __init__(self, listeners: Iterable[AsyncListener] = ()) -> None:
        super().__init__(listeners)
        self._index: dict[str, list[AsyncListener]] | None = None

    def append(self, listener: AsyncListener) -> None:
        super().append(listener)
        self._index = None

    def __iter__(self) -> Iterator[AsyncListener]:
        return iter(self.for_kind(_REQUEST_KIND.get()))

    def for_kind(self, kind: str | None) -> list[AsyncListener]:
        """The listeners a request of `kind` (kind_of) is tried against, in order."""
        if kind is None:
            return list(list.__iter__(self))
        if self._index is None:
            self._index = self._build()
        return self._index[kind]

    def _build(self) -> dict[str, list[AsyncListener]]:
        index: dict[str, list[AsyncListener]] = {kind: [] for kind in _KNOWN}
        for listener in list.__iter__(self):
            registrar = getattr(listener.ack_function, KIND_ATTRIBUTE, None)
            for kind in REQUEST_KINDS.get(registrar, _KNOWN):  # type: ignore[arg-type]
                index[kind].append(listener)
        return index


class IndexedApp(AsyncApp):
    """AsyncApp with the dispatch described above."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._async_listeners = ListenersByKind(self._async_listeners)
        self._shared_logger = get_bolt_app_logger(app_name=self.name, base_logger=self._base_logger)
        self._team_clients: dict[str | None, AsyncWebClient] = {}

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        token = _REQUEST_KIND.set(kind_of(req.body))
        try:
            return await super().async_dispatch(req)
        finally:
            _REQUEST_KIND.reset(token)

    def _init_context(self, req: AsyncBoltRequest) -> None:
        if self._token is None or req.context.function_bot_access_token:
            super()._init_context(req)  # the request sets its own token on its own client
            return
        req.context["logger"] = self._shared_logger
        req.context["token"] = self._token
        req.context["client"] = self._client_for(req.context.team_id)
        req.context["listener_runner"] = self.listener_runner

    def _client_for(self, team_id: str | None) -> AsyncWebClient:
        """The client Bolt would make for a request of `team_id` (its calls carry that
        team_id, which org-wide tokens need), made once per workspace."""
        found = self._team_clients.get(team_id)
        if found is None:
            if len(self._team_clients) >= MAX_TEAM_CLIENTS:
                self._team_clients.clear()
            shared = self._async_client
            found = AsyncWebClient(
                token=self._token, base_url=shared.base_url, timeout=shared.timeout,
                ssl=shared.ssl, proxy=shared.proxy, session=shared.session,
                trust_env_in_session=shared.trust_env_in_session, headers=shared.headers,
                team_id=team_id, logger=shared.logger,
                retry_handlers=(shared.retry_handlers.copy()
                                if shared.retry_handlers is not None else None),
            )  # fmt: skip
            self._team_clients[team_id] = found
        return found

    def quicken_matchers(self) -> None:
        """Swap each listener's built-in matchers that only read the body for BodyMatcher
        (call once every listener is registered)."""
        for listener in list.__iter__(self._async_listeners):
            listener.matchers = [
                BodyMatcher(m.func)
                if isinstance(m, AsyncBuiltinListenerMatcher) and list(m.arg_names) == ["body"]
                else m
                for m in listener.matchers
            ]
