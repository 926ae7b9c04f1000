"""The one HTTP client every verification goes through.

Why a wrapper and not bare httpx: it is the single place that enforces what a credential may
never do — travel to a host that is not the platform's own, follow a redirect, be retried after
a rejection — and that turns transport trouble into a Failure a person can act on.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from flows.budget import Budget, Ledger, OverBudget, Ticket
from flows.outcomes import Failure, VerifyError
from flows.recent import RecentResults

if TYPE_CHECKING:
    import httpx

MAX_BODY_BYTES = 1_000_000
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
USER_AGENT = "getkey/0.1 (+credential verification)"
# How long a call may wait for room in its platform's budget: a person is waiting on a
# verification, a re-check is not (one that still finds no room is deferred, never sent).
INTERACTIVE_WAIT = 10.0
BACKGROUND_WAIT = 300.0
# Lightspeed eCom's X-RateLimit-Reset: above this a value is a Unix time, not seconds left.
EPOCH_THRESHOLD = 1e9


def env_name(flow_id: str) -> str:
    """GETKEY_<ID>_API_URL, with the id upper-cased and dashes as underscores."""
    return "GETKEY_" + re.sub(r"[^A-Z0-9]", "_", flow_id.upper()) + "_API_URL"


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*."):
            suffix = pattern[1:]
            label = host[: -len(suffix)] if host.endswith(suffix) else ""
            # Exactly one extra DNS label: "shop.vendhq.com", never "evil.com.vendhq.com".
            if label and re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", label):
                return True
        elif host == pattern:
            return True
    return False


class Platform(Protocol):
    """What the HTTP layer needs to know about a flow (flows.base.Flow has all of it)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def hosts(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    platform: str

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise VerifyError(
                Failure.UNEXPECTED,
                f"{self.platform} answered with something that is not valid JSON "
                f"(HTTP {self.status}).",
            ) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise VerifyError(
                Failure.UNEXPECTED,
                f"{self.platform} answered with JSON of an unexpected shape (HTTP {self.status}).",
            )
        return data

    def json_or_empty(self) -> dict[str, Any]:
        """For error bodies, which may be anything: never fails."""
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def retry_after_seconds(headers: httpx.Headers, now: float | None = None) -> float | None:
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        # Whole seconds per RFC 9110; Shopify sends decimals ("Retry-After: 2.0").
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value):
            return float(value)
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - (now or time.time()))
        except (TypeError, ValueError):
            pass
    ms = headers.get("x-rate-limit-time-reset-ms")
    if ms and ms.strip().isdigit():
        return int(ms) / 1000.0
    return _reset_of_window(headers, now)


def _numbers(value: str | None) -> list[float] | None:
    if not value:
        return None
    try:
        return [float(part) for part in value.split("/")]
    except ValueError:
        return None


def _reset_of_window(headers: httpx.Headers, now: float | None) -> float | None:
    """X-RateLimit-Reset, one value per window when slash-separated (Lightspeed eCom sends
    "263/2063/23663" for its 5-minute, hourly and daily windows). The window that applies is
    the one with nothing remaining; when the remaining counts are missing, the longest wait is
    the only safe reading. A value above 1e9 is a Unix time, not a number of seconds."""
    resets = _numbers(headers.get("x-ratelimit-reset"))
    if not resets:
        return None
    clock = now or time.time()
    waits = [max(0.0, r - clock) if r > EPOCH_THRESHOLD else r for r in resets]
    remaining = _numbers(headers.get("x-ratelimit-remaining"))
    if remaining and len(remaining) == len(waits):
        spent = [w for w, left in zip(waits, remaining, strict=True) if left <= 0]
        if spent:
            return max(spent)
    return max(waits)


class PlatformHttp:
    """Sends a flow's requests. One instance (and so one connection pool) per process."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        total_timeout: float = TOTAL_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        max_body: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        interactive_wait: float = INTERACTIVE_WAIT,
        background_wait: float = BACKGROUND_WAIT,
    ) -> None:
        self.total_timeout = total_timeout
        self.max_body = max_body
        # The caller's settings (GETKEY_<ID>_API_URL); flows never read the environment.
        self.environ = environ if environ is not None else {}
        # Shared with for_background()'s view, so both use one connection pool.
        self._client = _LazyClient(client, total_timeout, connect_timeout)
        # Budgets are per process (this object), shared by every thread and by the
        # background view below; the clock and sleep are injectable for tests.
        self.clock = clock
        self.sleep = sleep
        self.interactive_wait = interactive_wait
        self.background_wait = background_wait
        self.background = False
        self._ledgers: dict[str, Ledger] = {}
        self._ledgers_lock = threading.Lock()
        self.recent: RecentResults | None = RecentResults()

    @property
    def client(self) -> httpx.Client:
        return self._client.get()

    def close(self) -> None:
        self._client.close()

    def for_background(self) -> PlatformHttp:
        """The same client, budgets and cache for re-checks: they may use only part of each
        budget, and wait longer for it than a person would."""
        view = copy.copy(self)
        view.background = True
        # Re-checks are days apart: the memory of people's identical re-submissions is not
        # theirs to use (flows.recent).
        view.recent = None
        return view

    def ledger(self, flow: Platform) -> Ledger | None:
        budget: Budget | None = getattr(flow, "budget", None)
        if budget is None:
            return None
        with self._ledgers_lock:
            ledger = self._ledgers.get(flow.id)
            if ledger is None:
                ledger = Ledger(budget, clock=self.clock, sleep=self.sleep)
                self._ledgers[flow.id] = ledger
            return ledger

    def _reserve(self, flow: Platform) -> Ticket | None:
        ledger = self.ledger(flow)
        if ledger is None:
            return None
        wait = self.background_wait if self.background else self.interactive_wait
        try:
            return ledger.reserve(background=self.background, max_wait=wait)
        except OverBudget as exc:
            raise VerifyError(
                Failure.RATE_LIMITED,
                f"getkey is holding back calls to {flow.name} so that {flow.name} does not "
                f"block this server. Try again in {int(exc.retry_after + 0.999)} seconds.",
                retry_after=exc.retry_after,
            ) from None

    def override(self, flow: Platform) -> str | None:
        value = (self.environ.get(env_name(flow.id)) or "").strip()
        return value or None

    def target_url(self, flow: Platform, url: str) -> str:
        """Where a request for `url` really goes: `url` itself, or `url` with its scheme and
        host replaced by GETKEY_<ID>_API_URL (its path kept, after the override's own path).
        Signatures that cover the URL (OAuth 1.0a) are computed over this one."""
        override = self.override(flow)
        if not override:
            return url
        parts, o = urlsplit(url), urlsplit(override)
        return urlunsplit((o.scheme, o.netloc, o.path.rstrip("/") + parts.path, parts.query, ""))

    def request(
        self,
        flow: Platform,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        raise_common: bool = True,
    ) -> Reply:
        """Send one request to `url` (the platform's real URL).

        With `raise_common`, the answers that mean the same on every platform become a
        VerifyError here: 429 (rate limited), 5xx (platform trouble), 3xx (redirect refused).
        """
        target, send_headers = self._addressed(flow, url, headers)
        ticket = self._reserve(flow)
        status: int | None = None
        deadline = time.monotonic() + self.total_timeout
        import httpx  # loaded with the client, on the first verification (see _LazyClient)

        try:
            with self.client.stream(
                method,
                target,
                headers=send_headers,
                params=params,
                json=json_body,
                data=form,
                auth=auth,
                follow_redirects=False,
            ) as response:
                status = response.status_code
                body = self._read(response, flow, deadline)
                reply = Reply(response.status_code, response.headers, body, flow.name)
        except httpx.TimeoutException:
            raise VerifyError(
                Failure.UNREACHABLE,
                f"{flow.name} did not answer within {self.total_timeout:g} seconds. "
                "Try again in a minute; if it keeps happening, check the platform's status page.",
            ) from None
        except httpx.HTTPError as exc:
            raise VerifyError(
                Failure.UNREACHABLE,
                f"Could not reach {flow.name} ({type(exc).__name__}). "
                "Check the store address, then try again.",
            ) from None
        finally:
            if ticket is not None:
                ticket.settle(status)
        if raise_common:
            raise_for_common(reply)
        return reply

    def _addressed(
        self, flow: Platform, url: str, headers: Mapping[str, str] | None
    ) -> tuple[str, dict[str, str]]:
        """Where the request really goes (a GETKEY_<PLATFORM>_API_URL replaces scheme and host)
        and its headers; a URL outside the platform's hosts is refused."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not host_allowed(host, flow.hosts):
            # A programming or input-validation slip: refuse rather than leak a credential.
            raise VerifyError(
                Failure.UNEXPECTED,
                f"Refusing to send a {flow.name} credential to a host that is not {flow.name}'s.",
            )
        send_headers = dict(headers or {})
        target = self.target_url(flow, url)
        if target != url:
            # Keep the real host visible, as a forward proxy would, so per-store hosts survive.
            send_headers["Host"] = parts.netloc
        return target, send_headers

    def _read(self, response: httpx.Response, flow: Platform, deadline: float) -> bytes:
        """The whole body, refused past `max_body` bytes or past the total deadline."""
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > self.max_body:
                raise VerifyError(
                    Failure.UNEXPECTED,
                    f"{flow.name} sent an answer larger than {self.max_body // 1000} kB; "
                    "it was not read. This is not what its API normally returns.",
                )
            if time.monotonic() > deadline:
                import httpx

                raise httpx.ReadTimeout("total deadline")
        return bytes(body)


class _LazyClient:
    """The httpx client, made on first use: a serving process that verifies nothing never
    imports httpx nor builds its TLS context (about 4 MB together, issue 21)."""

    def __init__(self, client: httpx.Client | None, total: float, connect: float) -> None:
        self._client = client
        self._timeouts = (total, connect)
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    import httpx

                    total, connect = self._timeouts
                    self._client = httpx.Client(
                        timeout=httpx.Timeout(total, connect=connect),
                        follow_redirects=False,
                        limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
                        headers={"User-Agent": USER_AGENT},
                        trust_env=False,
                    )
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()


def raise_for_common(reply: Reply) -> None:
    if reply.status == 429:
        wait = retry_after_seconds(reply.headers)
        when = (
            f" Try again in {int(wait + 0.999)} seconds."
            if wait is not None
            else " Wait a minute, then try again."
        )
        raise VerifyError(
            Failure.RATE_LIMITED,
            f"{reply.platform} is rate-limiting requests right now.{when}",
            retry_after=wait,
        )
    if 300 <= reply.status < 400:
        raise VerifyError(
            Failure.UNEXPECTED,
            f"{reply.platform} answered with a redirect (HTTP {reply.status}); "
            "getkey never follows redirects with a credential attached. "
            "Check the store address you entered.",
        )
    if reply.status >= 500:
        raise VerifyError(
            Failure.UNREACHABLE,
            f"{reply.platform} had a server error (HTTP {reply.status}). "
            "This is on their side: try again in a few minutes.",
        )
