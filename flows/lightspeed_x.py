"""Lightspeed X-Series (formerly Vend): the store's domain prefix and a personal token.

The prefix becomes part of the host name the token is sent to, so it is checked to be exactly
one DNS label: the token can only ever travel to <prefix>.retail.lightspeed.app. The API does
not reveal a personal token's expiry, so the person tells us the date they picked.

Expiry time of day: Lightspeed's help centre says only that "you can specify a token expiry
date" (x-series-support.lightspeedhq.com, personal tokens); nothing we found says at what hour
of that date the token stops. getkey used to store the date as 00:00 UTC, which for a person in
the Americas is the evening before the day they picked. Unless the vendor says otherwise, getkey
takes the end of the chosen day in the person's time zone (`time_zone`, an IANA name a renderer
may pass along with the values; UTC when it does not), and the guide says so. Unconfirmed: the
real hour at which Lightspeed retires the token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.base import (
    Failure,
    Field,
    FieldError,
    Flow,
    Purpose,
    Step,
    Trouble,
    VerifyError,
    VerifyResult,
    field_error,
)
from flows.cleaning import looks_like_url, token, unwrap
from flows.http import PlatformHttp

STORE_DOMAIN = "retail.lightspeed.app"
LEGACY_DOMAIN = "vendhq.com"

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# Hosts under the store domains that belong to Lightspeed itself, never to a store.
_NOT_STORES = {"www", "secure", "api", "login", "my", "help", "support", "developers"}
_PERSONAL = re.compile(r"lsxs_pt_[A-Za-z0-9]{20,}")
# Tokens made before the lsxs_ prefix existed have no documented shape (assumption: one run of
# URL-safe characters); only the obviously wrong is refused.
_LEGACY = re.compile(r"[A-Za-z0-9_-]{20,200}")
# What the fields hold once cleaned: one DNS label that is not a Lightspeed host of its own;
# a personal token, or a legacy one that does not pretend to be another lsxs_ kind; a date.
_PREFIX_SHAPE = f"(?!(?:{'|'.join(sorted(_NOT_STORES))})$){_LABEL.pattern}"
_TOKEN_SHAPE = f"{_PERSONAL.pattern}|(?!lsxs_){_LEGACY.pattern}"
_DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_NO_EXPIRY = {"none", "never", "no", "no expiry", "no expiration", "n/a", "-"}


def _clean_prefix(raw: str) -> str:
    value = unwrap(raw).lower()
    if value.startswith("lsxs_"):
        raise FieldError(
            "This is a token. The domain prefix is the first part of your store address, "
            "as in myshop.retail.lightspeed.app."
        )
    if looks_like_url(value) or "." in value or "/" in value:
        try:
            host = (urlsplit(value if "://" in value else "https://" + value).hostname or "")
        except ValueError:
            host = ""
        host = host.rstrip(".")
        for domain in (STORE_DOMAIN, LEGACY_DOMAIN):
            if host.endswith("." + domain):
                value = host[: -len(domain) - 1]
                break
        else:
            raise FieldError(
                "That address is not an X-Series store address. Paste the one you sign in at, "
                "ending in .retail.lightspeed.app (or .vendhq.com), or just its first part."
            )
    if value in _NOT_STORES:
        raise FieldError(
            "That is a Lightspeed sign-in address, not your store's. Use the address your "
            "store opens at after signing in: the part before .retail.lightspeed.app."
        )
    if not _LABEL.fullmatch(value):
        raise FieldError(
            "The domain prefix is one word of letters, digits and dashes, such as myshop "
            "(from myshop.retail.lightspeed.app)."
        )
    return value


def _clean_token(raw: str) -> str:
    value = token(raw, "The personal token")
    if looks_like_url(value):
        raise FieldError(
            "That is a web address. Paste the personal token itself, which usually "
            "starts with lsxs_pt_."
        )
    if value.startswith("lsxs_") and not value.startswith("lsxs_pt_"):
        raise FieldError(
            "This is not a personal token (those start with lsxs_pt_). Create one under "
            "Setup › Personal Tokens."
        )
    if value.startswith("lsxs_pt_"):
        if not _PERSONAL.fullmatch(value):
            raise FieldError(
                "The personal token looks cut short or has extra characters. Copy it again, "
                "whole; if it is no longer shown, create a new one."
            )
        return value
    if not _LEGACY.fullmatch(value):
        raise FieldError(
            "A personal token is one long run of letters and digits, usually starting with "
            "lsxs_pt_. Copy it again, whole."
        )
    return value


def _clean_expiry(raw: str) -> str:
    value = unwrap(raw).lower().strip(" .")
    if value in _NO_EXPIRY:
        return ""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise FieldError(
            "Write the expiry date as YYYY-MM-DD (for example 2026-12-31), or leave it empty "
            "if the token never expires."
        )
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FieldError("That date does not exist; check the month and day.") from None
    if day < datetime.now(UTC).date():
        raise FieldError(
            "That date has already passed, so the token would no longer work. Check the date "
            "you picked, or create a new token."
        )
    return day.isoformat()


def end_of_day(day: date, time_zone: str | None) -> datetime:
    """The last moment of `day` in `time_zone` (an IANA name; UTC when missing or unknown)."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    next_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return (next_day - timedelta(seconds=1)).astimezone(UTC)


class LightspeedXFlow(Flow):
    id = "lightspeed-x"
    name = "Lightspeed X-Series"
    aliases = ("vend", "lightspeed x-series", "x-series", "lightspeed vend", "vendhq")
    summary = (
        "A personal token from Setup › Personal Tokens, your store's domain prefix, and the "
        "expiry date you chose for the token (if any)."
    )
    api_base = f"https://example.{STORE_DOMAIN}"
    hosts = (f"*.{STORE_DOMAIN}", f"*.{LEGACY_DOMAIN}")
    family = "lightspeed"
    edition = "X-Series"
    recognise = (
        "Formerly Vend: you sign in at an address like myshop.retail.lightspeed.app (older "
        "stores: myshop.vendhq.com), and Setup has a Personal Tokens page."
    )
    rotation_days = 90
    # A personal token has the access of an admin user (Lightspeed's own words): it can write.
    needs = {Purpose.WRITE: ("admin (personal token)",)}
    revoke_steps = (
        Step(
            "Open the personal tokens",
            "In the X-Series back office go to Setup › Personal Tokens.",
        ),
        Step(
            "Delete the token",
            "Find the token by its name and delete it; it stops working at once. A token made "
            "with an expiry date also stops by itself on that date.",
        ),
    )
    identity_fields = ("domain_prefix",)
    steps = (
        Step(
            "Sign in as an admin",
            "Sign in to your X-Series store. Note its address: the first part, before "
            ".retail.lightspeed.app (or .vendhq.com on older stores), is the domain prefix.",
        ),
        Step(
            "Open Personal Tokens",
            "Go to Setup › Personal Tokens and click *Add Personal Token*.",
        ),
        Step(
            "Name it and choose the expiry",
            "Give the token a name that says who uses it. An expiry date is optional: untick "
            "it for a token that lasts until you delete it, or pick a date and tell getkey the "
            "same date so you are reminded before it stops working. getkey counts the token as "
            "working until the end of that date in your own time zone, since Lightspeed does "
            "not say at what hour it stops.",
        ),
        Step(
            "Generate and copy it now",
            "Click *Generate Personal Token*. The token is shown only this once; copy it "
            "straight into getkey. It gives the same access as an admin user, so keep it safe.",
        ),
    )
    fields = (
        Field(
            "domain_prefix",
            "Domain prefix",
            hint="The first part of your store address; pasting the whole address works too.",
            example="myshop",
            max_length=300,
            clean=_clean_prefix,
            shape=_PREFIX_SHAPE,
        ),
        Field(
            "token",
            "Personal token",
            hint="Shown once, right after you generate it. Usually starts with lsxs_pt_.",
            example="lsxs_pt_MxoU8Ids…",
            secret=True,
            max_length=300,
            clean=_clean_token,
            shape=_TOKEN_SHAPE,
        ),
        Field(
            "expires_on",
            "Expiry date you chose (optional)",
            hint="YYYY-MM-DD. Leave empty if you unticked the expiry date.",
            example="2026-12-31",
            required=False,
            max_length=40,
            clean=_clean_expiry,
            shape=_DATE_SHAPE,
        ),
    )
    troubleshooting = (
        Trouble(
            "401 Unauthorized",
            "The token was mistyped, has passed its expiry date, was deleted, or belongs to a "
            "different store. Check the domain prefix, then create a new token if needed.",
        ),
        Trouble(
            "No Personal Tokens item under Setup",
            "Only admins see it, and some plans do not include API access. Sign in as an admin "
            "or ask Lightspeed about your plan.",
        ),
        Trouble(
            "The token can no longer be displayed",
            "X-Series shows a token once. Delete the old one and generate a new one.",
        ),
        Trouble(
            "429 Too Many Requests",
            "Requests are limited per store in 5-minute windows. Wait until the time given, "
            "or pause other apps that use the same store.",
        ),
    )

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        prefix = values["domain_prefix"]
        reply = http.request(
            self,
            "GET",
            f"https://{prefix}.{STORE_DOMAIN}/api/2.0/retailer",
            headers={"Authorization": f"Bearer {values['token']}", "Accept": "application/json"},
        )
        if reply.status == 401:
            raise VerifyError(
                Failure.BAD_CREDENTIAL,
                f"The store {prefix} did not accept this personal token: it is mistyped, expired, "
                "deleted, or made in a different store. Generate a new one in Setup › Personal "
                "Tokens if needed.",
                field="token",
            )
        if reply.status == 404:
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                f"There is no X-Series store at {prefix}.{STORE_DOMAIN}. Check the domain "
                "prefix: it is the first part of the address you sign in at.",
                field="domain_prefix",
            )
        if reply.status in (402, 403):
            raise VerifyError(
                Failure.NO_API_ACCESS,
                "The token was recognised, but the store may not use the API: its plan may not "
                "include API access, or the account is suspended. Check with Lightspeed.",
            )
        if reply.status != 200:
            raise VerifyError(
                Failure.UNEXPECTED,
                f"Lightspeed X-Series answered with an unexpected HTTP {reply.status}.",
            )
        data: Any = reply.json_object().get("data")
        if not isinstance(data, dict) or not data.get("name"):
            raise VerifyError(
                Failure.UNEXPECTED, "Lightspeed X-Series answered without the store's details."
            )
        actual = str(data.get("domain_prefix") or prefix)
        warnings: list[str] = []
        if actual != prefix:
            warnings.append(
                f"The store's own domain prefix is {actual}; getkey keeps the one you entered, "
                "which still reaches it."
            )
        expiry = values.get("expires_on") or ""
        return VerifyResult(
            ok=True,
            store_name=str(data["name"]),
            store_url=f"https://{prefix}.{STORE_DOMAIN}",
            account=actual,
            granted=("admin (personal token)",),
            warnings=tuple(warnings),
            expires_at=(
                end_of_day(date.fromisoformat(expiry), values.get("time_zone"))
                if expiry
                else None
            ),
        )

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        if values.get("token") and values["token"].lower() == values.get("domain_prefix"):
            raise field_error("The token and the domain prefix are the same.", "token")
        return values


FLOW = LightspeedXFlow()
