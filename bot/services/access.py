"""Handing a stored credential to the tool that uses it, in the form it can use right now.

Most platforms' stored values are what a tool sends. A platform whose stored credential is a
client pair that mints short-lived tokens (Shopify's Dev Dashboard apps) answers with a freshly
minted token as well (`Flow.access_values`), so a tool is never handed a token that expires
before it is used. Nothing minted here is stored, and no secret reaches a log or an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flows import catalog
from flows.base import VerifyError
from flows.http import PlatformHttp

log = logging.getLogger(__name__)


class AccessRefused(Exception):
    """The platform refused to mint what a tool needs; the message is safe to show."""


def access_values(
    platform: str, values: Mapping[str, str], http: PlatformHttp
) -> dict[str, str]:
    """The stored `values` plus whatever the platform needs minted for use now."""
    flow = catalog.get(platform)
    if flow is None:
        return dict(values)
    try:
        return flow.access_values(values, http)
    except VerifyError as exc:
        log.warning("access token not minted", extra={"platform": flow.id})
        raise AccessRefused(f"{flow.name} refused to issue an access token: {exc.detail}") from None
