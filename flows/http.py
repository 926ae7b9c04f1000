"""The one HTTP client every verification goes through.

Why a wrapper and not bare httpx: it is the single place that enforces what a credential may
never do — travel to a host that is not the platform's own, follow a redirect, be retried after
a rejection — and that turns transport trouble into a Failure a person can act on.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from flows.outcomes import Failure, VerifyError

MAX_BODY_BYTES = 1_000_000
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
USER_AGENT = "getkey/0.1 (+credential verification)"


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
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            return float(reset)
        except ValueError:
            return None
    return None


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
    ) -> None:
        self.total_timeout = total_timeout
        self.max_body = max_body
        # The caller's settings (GETKEY_<ID>_API_URL); flows never read the environment.
        self.environ = environ if environ is not None else {}
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

    def override(self, flow: Platform) -> str | None:
        value = (self.environ.get(env_name(flow.id)) or "").strip()
        return value or None

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
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not host_allowed(host, flow.hosts):
            # A programming or input-validation slip: refuse rather than leak a credential.
            raise VerifyError(
                Failure.UNEXPECTED,
                f"Refusing to send a {flow.name} credential to a host that is not {flow.name}'s.",
            )
        send_headers = dict(headers or {})
        target = url
        override = self.override(flow)
        if override:
            o = urlsplit(override)
            base_path = o.path.rstrip("/")
            target = urlunsplit((o.scheme, o.netloc, base_path + parts.path, parts.query, ""))
            # Keep the real host visible, as a forward proxy would, so per-store hosts survive.
            send_headers["Host"] = parts.netloc
        deadline = time.monotonic() + self.total_timeout
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
                        raise httpx.ReadTimeout("total deadline")
                reply = Reply(response.status_code, response.headers, bytes(body), flow.name)
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
        if raise_common:
            raise_for_common(reply)
        return reply


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
