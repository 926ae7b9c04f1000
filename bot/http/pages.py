"""The link pages (issue 22): GET /k/<token> shows who asks, the platform's guide and its form;
POST /k/<token> verifies and stores the key for the requester (bot.services.links).

The token is the only credential of a link: it never reaches a log line (the edge logs the
route, "/k/"), and the page never sends it anywhere else (Referrer-Policy: no-referrer). A
secret typed into the form is never rendered back: after a failure only non-secret values
refill the form, after success only the masked value (last four characters) is shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from bot.http.api import RateLimiter
from bot.http.edge import Request, Response, Route
from bot.http.web import (
    MAX_FORM,
    csrf_ok,
    csrf_token,
    failure_view,
    field_errors,
    form_refused,
    help_html,
    lacks,
    not_saved_view,
    page,
    read_form,
    refill,
    secret_from,
)
from bot.services.links import (
    LINK_PATH,
    MAX_FAILURES,
    FormErrors,
    LinkClosed,
    LinkNotSaved,
    LinkPage,
    LinkRejected,
    LinkStored,
    link_hash,
)
from bot.services.requests import fixed_words
from bot.wording import day_words

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("bot.http.pages")

PROVIDER_NAME = "provider_name"
CSRF = "csrf"
CLOSED_STATUS = {"unknown": 404, "busy": 409}


def who_asks(page_: LinkPage | LinkClosed) -> str:
    info = page_.request
    if info is None:
        return "The person who asked"
    name = info.requester_name or "Someone"
    return f"{name} ({info.team_name})" if info.team_name else name


@dataclass
class LinkPages:
    rt: Runtime
    secret: bytes
    limiter: RateLimiter

    def _limited(self, request: Request) -> Response | None:
        wait = self.limiter.take(hash(request.client))  # type: ignore[arg-type]
        if wait <= 0:
            return None
        request.log_extra["limited"] = True
        return page("closed.html", 429, (("retry-after", str(max(1, round(wait + 0.5)))),),
                    why="limited", who="", title="Too many tries")

    async def handle(self, request: Request) -> Response:
        limited = self._limited(request)
        if limited is not None:
            return limited
        token = request.path.removeprefix(LINK_PATH)
        if request.method == "POST":
            return await self._submit(request, token)
        found = await self.rt.workers.quick(self.rt.links.opened, token)
        if isinstance(found, LinkClosed):
            return self._closed(found)
        self.rt.outbox.kick()  # "they opened the link", written with the move to 'opened'
        return await self._form(found, token)

    def _closed(self, found: LinkClosed) -> Response:
        return page("closed.html", CLOSED_STATUS.get(found.why, 410), why=found.why,
                    who=who_asks(found), title="Nothing to do here", max_failures=MAX_FAILURES)

    async def _help(self, found: LinkPage) -> Markup | None:
        """Whom the requester's workspace says to ask for help (bounded: a slow database
        leaves it out rather than the page)."""
        info = found.request
        defaults = await self.rt.admins.defaults_within(info.team_id, info.enterprise_id)
        return help_html(defaults.support_contact, who_asks(found))

    async def _form(self, found: LinkPage, token: str, status: int = 200, *,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                    failure: dict[str, Any] | None = None, left: int | None = None,
                    name: str = "") -> Response:
        flow = found.flow
        return page(
            "link.html", status, flow=flow, info=found.request, who=who_asks(found),
            job=fixed_words(found.request),
            action=LINK_PATH + token, csrf=csrf_token(self.secret, link_hash(token)),
            errors=errors or {}, values=refill(flow, values), failure=failure,
            attempts_left=left,
            provider_name=name, title=f"A {flow.name} key for {who_asks(found)}",
            help=await self._help(found),
        )  # fmt: skip

    async def _submit(self, request: Request, token: str) -> Response:
        form = await read_form(request)
        if form is None or not csrf_ok(self.secret, link_hash(token), form.get(CSRF, "")):
            request.log_extra["refused"] = "csrf"
            return form_refused()
        name = form.get(PROVIDER_NAME, "")
        found = await self.rt.workers.quick(self.rt.links.find, token)
        if isinstance(found, LinkClosed):
            return self._closed(found)
        outcome = await self.rt.workers.slow(
            found.flow.id, self.rt.links.submit, token, form, provider_name=name
        )
        self.rt.outbox.kick()  # failed / locked / stored: the requester hears it now
        if isinstance(outcome, LinkClosed):
            return self._closed(outcome)
        if isinstance(outcome, FormErrors):
            return await self._form(outcome.page, token, 422, errors=outcome.errors, values=form,
                                    name=name)
        if isinstance(outcome, LinkNotSaved):
            return await self._form(outcome.page, token, 503, values=form,
                                    failure=not_saved_view(), name=name)
        if isinstance(outcome, LinkRejected):
            if outcome.locked:
                return self._closed(LinkClosed("locked", outcome.page.request))
            failure = failure_view(outcome.page.flow, outcome.result)
            return await self._form(outcome.page, token, 422, errors=field_errors(failure),
                                    values=form, failure=failure, left=outcome.attempts_left,
                                    name=name)
        assert isinstance(outcome, LinkStored)
        info = outcome.info
        return page(
            "done.html", flow=outcome.page.flow, who=who_asks(outcome.page), cred=info,
            until=day_words(info.needed_until) if info.needed_until else "",
            store=info.store_name or info.identity, lacks=lacks(outcome.result, info.store_name),
            title=f"{outcome.page.flow.name} key verified",
        )  # fmt: skip


def link_routes(rt: Runtime, *, rate_per_minute: int = 60) -> list[Route]:
    """GET/POST /k/<token>, and the static files every page uses."""
    from bot.http.web import static_route

    pages = LinkPages(
        rt, secret_from(rt.settings.secret("getkey_encryption_keys")), RateLimiter(rate_per_minute)
    )
    return [
        Route(LINK_PATH, pages.handle, ("GET", "POST"), max_body=MAX_FORM, prefix=True),
        static_route(),
    ]
