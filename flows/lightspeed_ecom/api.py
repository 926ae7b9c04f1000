"""Lightspeed eCom's API as the flow meets it: its two clusters, the permission areas it
reports, and how it reports an error."""

from __future__ import annotations

from flows.http import Reply

# The official PHP client's live servers. "live" was a legacy alias of eu1 and is not offered.
CLUSTERS: dict[str, str] = {
    "eu1": "api.webshopapp.com",
    "us1": "api.shoplightspeed.com",
}
CLUSTER_NAMES = {"eu1": "EU", "us1": "US"}

# The permission areas the API reports; labels are what the back office calls them.
WRITE = ": Write"
AREAS = {
    "content": "Content",
    "products": "Products",
    "customers": "Customers",
    "orders": "Orders",
    "settings": "Settings",
    "tracking": "Tracking",
}


def error_of(reply: Reply) -> tuple[int, str]:
    """Lightspeed eCom reports errors as {"error": {"code", "message"}}, sometimes even with a
    2xx status; the official client treats both alike, and so do we."""
    body = reply.json_or_empty()
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code < 600 else reply.status
        if status < 400:
            status = 400
        return status, str(error.get("message") or "")
    return reply.status, ""
