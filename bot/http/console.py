"""The local web console (issue 22): with no Slack settings, `getkey serve` serves getkey's pages
on 127.0.0.1 so a newcomer can pick a platform, follow its guide, verify and store a key, list
and delete stored keys and see their next reminders, before creating any Slack app.

Protected like a notebook server: loopback only, a one-time login URL with a random token
printed in the terminal, then a session cookie (HttpOnly, SameSite=Strict); every request's
Host header must name the loopback address (a DNS-rebinding page cannot), and every form
carries a CSRF token bound to the session.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bot.http.edge import Handler, Request, Response, Route
from bot.http.web import (
    MAX_FORM,
    csrf_ok,
    csrf_token,
    failure_view,
    field_errors,
    form_refused,
    lacks,
    not_saved_view,
    page,
    read_form,
    refill,
    secret_from,
    static_route,
)
from bot.services.credentials import Actor, NotSaved, Rejected, Stored
from flows import catalog

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("bot.http.console")

HOME = "/console"
LOGIN = "/console/login"
PLATFORM = "/console/p/"
DELETE = "/console/delete/"
COOKIE = "getkey_console"
# Whose keys the console stores: one local person. They stay readable (same key file) when
# Slack is connected later; `getkey reveal --list` shows them.
LOCAL = Actor(team_id="local", user_id="console")


def _cookie(request: Request) -> str:
    for part in request.headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return ""


def _redirect(to: str, *headers: tuple[str, str]) -> Response:
    return Response(303, b"", [("location", to), ("cache-control", "no-store"), *headers])


@dataclass
class Console:
    rt: Runtime
    port: int
    secret: bytes
    login_token: str | None = field(default_factory=lambda: secrets.token_urlsafe(32))
    sessions: set[str] = field(default_factory=set)

    @property
    def login_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{LOGIN}?token={self.login_token}"

    @property
    def hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}", f"[::1]:{self.port}"}

    def guarded(self, handler: Handler, *, login: bool = False) -> Handler:
        """Host header first (DNS rebinding), then the session (except on the login URL)."""

        async def handle(request: Request) -> Response:
            if request.headers.get("host", "").lower() not in self.hosts:
                request.log_extra["refused"] = "host"
                return page("closed.html", 403, why="host", who="", title="Refused")
            if not login and _cookie(request) not in self.sessions:
                request.log_extra["refused"] = "session"
                return page("closed.html", 401, why="session", who="", title="Log in")
            return await handler(request)

        return handle

    # -- login ------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        presented = (parse_qs(request.query_string).get("token") or [""])[0]
        expected = self.login_token
        if expected is None or not hmac.compare_digest(presented, expected):
            request.log_extra["refused"] = "login"
            return page("closed.html", 403, why="login", who="", title="Login refused")
        self.login_token = None  # one time only
        session = secrets.token_urlsafe(32)
        self.sessions.add(session)
        cookie = f"{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/"
        return _redirect(HOME, ("set-cookie", cookie))

    # -- pages ------------------------------------------------------------------------------
    def _csrf(self, request: Request) -> str:
        return csrf_token(self.secret, "console:" + _cookie(request))

    async def _checked_form(self, request: Request) -> dict[str, str] | None:
        form = await read_form(request)
        if form is None or not csrf_ok(self.secret, "console:" + _cookie(request),
                                       form.get("csrf", "")):
            request.log_extra["refused"] = "csrf"
            return None
        return form

    async def home(self, request: Request) -> Response:
        keys = await self.rt.workers.quick(self.rt.credentials.mine, LOCAL)
        return page(
            "console.html", title="Console", flows=catalog.all_flows(), keys=keys,
            csrf=self._csrf(request), key_file=self.rt.settings.key_file,
            names={f.id: f.name for f in catalog.all_flows()},
        )  # fmt: skip

    async def platform(self, request: Request) -> Response:
        flow = catalog.get(request.path.removeprefix(PLATFORM))
        if flow is None:
            return _redirect(HOME)
        if request.method == "GET":
            return self._form(request, flow)
        form = await self._checked_form(request)
        if form is None:
            return form_refused()
        checked = flow.check(form)
        if not checked.ok:
            return self._form(request, flow, 422, errors=dict(checked.errors), values=form)
        attempt = f"console-{uuid.uuid4().hex}"
        outcome = await self.rt.workers.slow(
            flow.id, self.rt.credentials.submit, flow, checked.values, actor=LOCAL,
            view_id=attempt, view_hash=attempt,
        )  # fmt: skip
        if isinstance(outcome, Stored):
            info = outcome.info
            return page("console_done.html", title=f"{flow.name} key stored", flow=flow,
                        cred=info, store=info.store_name or info.identity,
                        lacks=lacks(outcome.result, info.store_name), replaced=outcome.replaced)
        if isinstance(outcome, NotSaved):
            failure = not_saved_view()
        else:
            assert isinstance(outcome, Rejected)
            failure = failure_view(flow, outcome.result)
        return self._form(request, flow, 422, errors=field_errors(failure), values=form,
                          failure=failure)

    def _form(self, request: Request, flow: Any, status: int = 200, *,
              errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
              failure: dict[str, Any] | None = None) -> Response:
        return page("console_flow.html", status, title=f"{flow.name} key", flow=flow,
                    action=PLATFORM + flow.id, csrf=self._csrf(request), errors=errors or {},
                    values=refill(flow, values), failure=failure)

    async def delete(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if form is None:
            return form_refused()
        credential_id = request.path.removeprefix(DELETE)
        await self.rt.workers.quick(self.rt.credentials.delete, credential_id, LOCAL)
        return _redirect(HOME)

    async def root(self, request: Request) -> Response:
        return _redirect(HOME)

    def routes(self) -> list[Route]:
        static = static_route()
        return [
            Route(LOGIN, self.guarded(self.login, login=True)),
            Route(HOME, self.guarded(self.home)),
            Route("/", self.guarded(self.root)),
            Route(PLATFORM, self.guarded(self.platform), ("GET", "POST"), MAX_FORM, True),
            Route(DELETE, self.guarded(self.delete), ("POST",), MAX_FORM, True),
            Route(static.path, self.guarded(static.handler, login=True), static.methods,
                  prefix=True),
        ]


def make_console(rt: Runtime, port: int) -> Console:
    return Console(rt, port, secret_from(rt.settings.secret("getkey_encryption_keys")))
