"""Probes and metrics for orchestrators and Prometheus (routes wired in bot.http.edge):

- GET /livez: the process answers (never touches the database: a database outage must not get
  every instance restarted);
- GET /readyz: the database answers, the schema is at the newest migration, the keys decrypt
  (read-only; 503 with the reason otherwise) — take the instance out of the load balancer;
- GET /metrics: Prometheus text, only with `Authorization: Bearer $GETKEY_METRICS_TOKEN`; off
  (404) when the token is not set, because queue depths and failure rates are not public.
/healthz (bot.http.edge) stays for compatibility: it also writes a heartbeat. bot.cli.serve
mounts these routes beside the others.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from bot import metrics
from bot.http.edge import Request, Response, Route, _plain, json_response

READY_TIMEOUT = 2.0


async def livez(request: Request) -> Response:
    return json_response(200, {"ok": True}, [("cache-control", "no-store")])


def readyz_handler(ready: Callable[[], Awaitable[dict[str, Any]]],
                   timeout: float = READY_TIMEOUT) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        try:
            report = await asyncio.wait_for(ready(), timeout)
        except TimeoutError:
            report = {"ok": False, "problem": f"not ready within {timeout:g} s"}
        except Exception as exc:  # the type only: texts may quote URLs with passwords
            report = {"ok": False, "problem": f"readiness check failed ({type(exc).__name__})"}
        body = {**_plain(report), "ok": bool(report.get("ok"))}
        return json_response(200 if body["ok"] else 503, body, [("cache-control", "no-store")])

    return handle


def metrics_handler(token: str,
                    refresh: Callable[[], Awaitable[None]] | None = None
                    ) -> Callable[[Request], Awaitable[Response]]:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    expected = f"Bearer {token}".encode()

    async def handle(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            return json_response(401, {"error": "a bearer token is required"},
                                 [("www-authenticate", 'Bearer realm="metrics"')])
        if refresh is not None:
            try:
                await asyncio.wait_for(refresh(), READY_TIMEOUT)
            except Exception:  # noqa: S110 - stale gauges beat no metrics during an outage
                pass
        body = generate_latest(metrics.REGISTRY)
        return Response(200, body, [("content-type", CONTENT_TYPE_LATEST),
                                    ("cache-control", "no-store")])

    return handle


def probe_routes(ready: Callable[[], Awaitable[dict[str, Any]]], metrics_token: str,
                 refresh: Callable[[], Awaitable[None]] | None = None) -> list[Route]:
    """GET /livez and /readyz; GET /metrics when GETKEY_METRICS_TOKEN is set (else 404)."""
    routes = [Route("/livez", livez, ("GET", "HEAD")),
              Route("/readyz", readyz_handler(ready), ("GET", "HEAD"))]
    if metrics_token:
        routes.append(Route("/metrics", metrics_handler(metrics_token, refresh), ("GET",)))
    return routes
