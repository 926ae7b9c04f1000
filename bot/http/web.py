"""What every getkey web page shares: the Jinja2 environment (autoescaping on), the security
headers, the one stylesheet and script served by getkey itself, the CSRF tokens and a rate
limit per client address.

The guide on a page is rendered from the flow's own data (steps, fields, troubleshooting) and
failures are worded by bot.wording, as in Slack and the terminal: no second copy of any text.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from markupsafe import Markup, escape

from bot import wording
from bot.http.edge import Request, Response, Route
from bot.services.contact import split_contact
from flows.base import Flow, VerifyResult

HERE = Path(__file__).parent
STATIC_PREFIX = "/static/"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM = 64 * 1024

# Every page: nothing from elsewhere (no CDN, font, inline script), never framed, never cached,
# no Referer carrying a link's token to the sites the guide links to.
PAGE_HEADERS = (
    ("content-type", "text/html; charset=utf-8"),
    ("content-security-policy",
     "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
)

WEB = wording.Surface(
    retry="paste the key again below and press *Verify and store*",
    guide="the guide above",
    strong=lambda text: text,
    quote=lambda text: text,
)

_BOLD = re.compile(r"\*([^*\n]+)\*")
# Full URLs, and bare host/path references the flows write (manage.wix.com/account/api-keys).
_URL = re.compile(
    r"https?://[^\s<>\"')]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"')]*", re.I
)


def rich(text: str) -> Markup:
    """Flow text to HTML: escaped first, then *emphasis* and addresses become markup."""
    html = str(escape(text))
    html = _BOLD.sub(r"<strong>\1</strong>", html)

    def link(found: re.Match[str]) -> str:
        shown = found.group(0).rstrip(".,;:")
        rest = found.group(0)[len(shown):]
        href = shown if shown.lower().startswith(("http://", "https://")) else "https://" + shown
        return f'<a href="{href}" rel="noopener noreferrer">{shown}</a>{rest}'

    return Markup(_URL.sub(link, html))  # noqa: S704 - built from escaped text above


@functools.cache
def environment() -> Any:
    """Built on the first page served: Jinja2 (about 2 MB) stays out of a process that never
    serves a page (issue 21, idle memory)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rich"] = rich
    return env


def page(template: str, status: int = 200, headers: tuple[tuple[str, str], ...] = (),
         **context: Any) -> Response:
    body = environment().get_template(template).render(**context).encode()
    return Response(status, body, [*PAGE_HEADERS, *headers])


def failure_view(flow: Flow, result: VerifyResult) -> dict[str, Any]:
    """The words of a failed verification on a page (bot.wording, the web surface)."""
    headline, next_step = wording.failure_words(flow, result, WEB)
    field_label = ""
    if result.field:
        try:
            field_label = flow.field(result.field).label
        except KeyError:
            field_label = ""
    return {
        "headline": headline, "detail": result.detail, "next_step": next_step,
        "field": result.field or "", "field_label": field_label,
        "nothing_stored": wording.NOTHING_STORED,
    }  # fmt: skip


def not_saved_view() -> dict[str, Any]:
    """failure_view's words when the key verified but could not be stored: try again."""
    return {
        "headline": "The key works, but getkey could not store it", "detail": "",
        "next_step": "Please try again in a minute.", "field": "", "field_label": "",
        "nothing_stored": "",
    }  # fmt: skip


def field_errors(failure: Mapping[str, Any]) -> dict[str, str]:
    """A failure's headline marked on the field it names (if any)."""
    return {failure["field"]: failure["headline"]} if failure["field"] else {}


def refill(flow: Flow, values: Mapping[str, str] | None) -> dict[str, str]:
    """What a form shows again after a failure: what was typed, except secrets."""
    return {f.key: (values or {}).get(f.key, "") for f in flow.fields if not f.secret}


def form_refused() -> Response:
    """A form post without a valid CSRF token: nothing done."""
    return page("closed.html", 403, why="csrf", who="", title="Form refused")


def help_html(stored: str | None, who: str) -> Markup | None:
    """"Need help? Ask …" on a page, None when the workspace named no contact. A Slack person
    or channel means nothing outside Slack, so the page names `who` sent the link instead;
    the contact is an admin's input, escaped like any other."""
    found = split_contact(stored)
    if found is None:
        return None
    kind, value = found
    if kind == "url":
        where = Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(value)
    elif kind == "email":
        where = Markup('<a href="mailto:{0}">{0}</a>').format(value)
    else:
        return Markup("Need help? Ask {0}, who sent you this link.").format(who)
    return Markup("Need help? Ask {0}.").format(where)


def lacks(result: VerifyResult, store: str | None) -> str:
    return wording.lacks_sentence(store, result.missing, WEB) if result.missing else ""


# -- forms and CSRF -------------------------------------------------------------------------
def csrf_token(secret: bytes, bound_to: str) -> str:
    """A form token bound to one link (or console session): any instance sharing the
    encryption key can check it, and it is worthless for any other link."""
    return hmac.new(secret, b"csrf:" + bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, bound_to: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(secret, bound_to), presented or "")


def secret_from(encryption_keys: str) -> bytes:
    """The CSRF key, derived from the encryption keys (never the key itself)."""
    return hashlib.sha256(b"getkey-pages:" + encryption_keys.encode()).digest()


async def read_form(request: Request) -> dict[str, str] | None:
    """The first value of each field of an urlencoded form; None for any other body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        return None
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = parse_qs(text, keep_blank_values=True, max_num_fields=100)
    return {k: v[0] for k, v in fields.items() if v}


# -- the stylesheet and the script ----------------------------------------------------------
def static_route() -> Route:
    files: Mapping[str, tuple[bytes, str]] = {
        p.name: (p.read_bytes(), STATIC_TYPES[p.suffix])
        for p in (HERE / "static").iterdir() if p.suffix in STATIC_TYPES
    }

    async def serve(request: Request) -> Response:
        found = files.get(request.path.removeprefix(STATIC_PREFIX))
        if found is None:
            return Response(404, b"not found", [("content-type", "text/plain")])
        body, kind = found
        return Response(200, body, [("content-type", kind), ("cache-control", "max-age=600"),
                                    ("x-content-type-options", "nosniff")])

    return Route(STATIC_PREFIX, serve, ("GET", "HEAD"), prefix=True)
