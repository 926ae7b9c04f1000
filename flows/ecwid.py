"""Ecwid (Lightspeed E-Series): a custom app's secret token plus the store ID.

The store profile proves the token and names the store; the token-info endpoint lists the
scopes the app was granted, compared with what a migration needs. Ecwid answers a bad token
with 403 (not 401) and blocks callers that keep sending bad tokens, so each verification sends
a refused token exactly once.

Request budget (flows.budget), from Ecwid's REST API overview (docs.ecwid.com/api-reference):
"We accept up to 600 requests per minute per token. [...] If more requests continue to come
from a non-working token, Ecwid will block it for much longer after 20 requests per minute or a
total of 600 requests with non-working tokens per IP." The block is per address, so one host's
re-checks of uninstalled apps would stop every Ecwid verification from that host. getkey sends
at most 15 calls a minute to Ecwid (below 20 even if every one carried a dead token), and counts
the calls that may be refused separately: at most 300 a day, half the documented total, because
Ecwid does not say over what period its 600 are counted (unconfirmed; a day is our assumption).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flows.base import (
    Budget,
    Failure,
    Field,
    FieldError,
    Flow,
    Purpose,
    Step,
    Trouble,
    VerifyError,
    VerifyResult,
)
from flows.cleaning import looks_like_url, token, unwrap
from flows.http import PlatformHttp, Reply

API_HOST = "app.ecwid.com"

# The permissions the migration guide (seed 003) asks the custom app to have.
REQUIRED_SCOPES: tuple[str, ...] = (
    "read_store_profile",
    "update_store_profile",
    "read_store_limits",
    "read_catalog",
    "create_catalog",
    "update_catalog",
    "read_brands",
    "read_orders",
    "create_orders",
    "update_orders",
    "read_customers",
    "create_customers",
    "update_customers",
    "read_discount_coupons",
    "create_discount_coupons",
    "update_discount_coupons",
    "read_subscriptions",
    "update_subscriptions",
    "read_staff",
    "invite_staff",
    "delete_staff",
    "public_storefront",
    "customize_cart_calculation",
    "add_payment_method",
    "add_shipping_method",
)

# Ecwid grants this one to every app even when its list omits it ("requested in all cases even
# if not specified", api-docs.ecwid.com/reference/access-scopes): never a reason to fail.
ALWAYS_GRANTED = frozenset({"read_store_profile"})

# Examples show 32 letters and digits after the prefix; the range is wider so that a real
# token of another length is never refused by format alone. [I]
_SECRET = re.compile(r"(?:secret|secure)_[A-Za-z0-9]{16,64}")
_STORE_ID = re.compile(r"[0-9]{1,12}")
# Places a store ID shows up in addresses people copy: the API, the admin, instant sites.
_ID_IN_URL = (
    re.compile(r"app\.ecwid\.com/api/v3/([0-9]+)", re.I),
    re.compile(r"my\.ecwid\.com/store/([0-9]+)", re.I),
    re.compile(r"//store([0-9]+)\.(?:company\.site|ecwid\.com)", re.I),
)




def _clean_store_id(raw: str) -> str:
    value = unwrap(raw)
    if value.lower().startswith(("secret_", "public_", "secure_")):
        raise FieldError("This is a token. The store ID is a number, such as 12345678.")
    if looks_like_url(value) or "/" in value or "." in value:
        for pattern in _ID_IN_URL:
            m = pattern.search(value if "//" in value else "//" + value)
            if m:
                break
        else:
            raise FieldError(
                "That address does not contain the store ID. Paste only the number shown as "
                "Store ID on your custom app's page in Ecwid."
            )
        # The address gives digits of any length; the ID itself still has to fit.
        value = m.group(1)
    if value.lower().startswith(("id:", "store id")):
        value = value.split(":", 1)[-1].strip() if ":" in value else value[8:].strip()
    value = value.lstrip("#")
    if any(ch.isspace() for ch in value):
        raise FieldError("The store ID is one number without spaces.")
    if not _STORE_ID.fullmatch(value):
        raise FieldError("The store ID is only digits (at most 12), such as 12345678.")
    return value


def _clean_secret(raw: str) -> str:
    value = token(raw, "The secret token")
    lower = value.lower()
    if lower.startswith("public_"):
        raise FieldError(
            "This is the public token; paste the secret one. The public token only reads "
            "the storefront catalogue, so Ecwid refuses it for store data."
        )
    if looks_like_url(value):
        raise FieldError(
            "That is a web address. Paste the secret token itself, which starts with secret_."
        )
    if lower.startswith(("secret_", "secure_")) and not _SECRET.fullmatch(value):
        raise FieldError(
            "The secret token is secret_ followed by about 32 letters and digits. "
            "Copy it again with Show secret token."
        )
    if not _SECRET.fullmatch(value):
        raise FieldError(
            "The secret token starts with secret_. Copy the whole value shown after "
            "clicking Show secret token; the client ID and client secret are not the token."
        )
    return value


class EcwidFlow(Flow):
    id = "ecwid"
    # Short, because renderers put it in sentences; the Lightspeed names are aliases.
    name = "Ecwid"
    aliases = (
        "lightspeed-e",
        "lightspeed e-series",
        "lightspeed e series",
        "e-series",
        "ecwid by lightspeed",
    )
    summary = (
        "Ecwid, also sold as Lightspeed E-Series: a custom app's secret token (secret_…) "
        "and your store ID, with the permissions a migration needs."
    )
    api_base = f"https://{API_HOST}"
    hosts = (API_HOST,)
    # Tokens never expire; a twice-yearly reminder keeps a forgotten app from lingering.
    family = "lightspeed"
    edition = "E-Series (Ecwid)"
    recognise = (
        "Ecwid under the Lightspeed name: the admin is at my.ecwid.com, and an instant site "
        "looks like store12345678.company.site. Uses the Ecwid guide."
    )
    rotation_days = 180
    # See the module docstring: below the documented 20 a minute, and a daily cap on the calls
    # that may carry a non-working token (Ecwid answers those 403).
    budget = Budget(
        calls=15,
        per_seconds=60.0,
        refused=300,
        refused_per_seconds=86_400.0,
        refused_statuses=(401, 403),
        source="docs.ecwid.com/api-reference: blocked after 20 requests per minute or a total "
        "of 600 requests with non-working tokens per IP",
    )
    identity_fields = ("store_id",)
    # Seed 003's list, split by what the job does: reading needs the read_ scopes, writing
    # also the create_/update_ ones.
    needs = {
        Purpose.READ: tuple(s for s in REQUIRED_SCOPES if s.startswith("read_")),
        Purpose.WRITE: tuple(s for s in REQUIRED_SCOPES
                             if s.startswith(("read_", "create_", "update_"))),
    }
    purpose_fix = {
        Purpose.WRITE: "Ask Ecwid to add them (*Contact*, under Request Ecwid team to update "
        "app details), reinstall the app, then paste its new secret token.",
    }
    revoke_steps = (
        Step(
            "Uninstall the custom app",
            "In the Ecwid admin open Apps › My Apps, find the custom app made for this job and "
            "uninstall it. Its secret token stops working with it.",
        ),
        Step(
            "Delete it if it is not needed again",
            "At my.ecwid.com/#develop-apps you can also remove the app itself. Installing it "
            "again later issues a new token, never the old one.",
        ),
    )
    steps = (
        Step(
            "Sign in to the right store",
            "Log in to the Ecwid admin as the owner (or a staff member with full access) of "
            "the store the token is for. A token only ever works for the store it came from.",
        ),
        Step(
            "Create a custom app",
            "Open my.ecwid.com/#develop-apps and create a custom app for this store.",
        ),
        Step(
            "Give the app every permission",
            "The app needs these permissions: " + ", ".join(REQUIRED_SCOPES) + ". "
            "A migration reads and writes products, orders, customers, coupons and settings; "
            "without them it stops part-way.",
        ),
        Step(
            "Ask Ecwid for the missing ones",
            "New apps only get product and order access. For the rest, scroll to "
            "*Request Ecwid team to update app details & add new features*, click *Contact*, "
            "list the missing permissions and submit. Wait for Ecwid to confirm.",
        ),
        Step(
            "Reinstall the app",
            "Once Ecwid has added the permissions, uninstall the app under Apps › My Apps and "
            "install it again from #develop-apps, so that its token carries them.",
        ),
        Step(
            "Copy the secret token and the store ID",
            "On the app's page click *Show secret token* and copy the value starting with "
            "secret_ (not the public_ one). The Store ID is shown on the same Details page.",
        ),
    )
    fields = (
        Field(
            "store_id",
            "Store ID",
            hint="A number. An Ecwid admin or API address containing it works too.",
            example="12345678",
            clean=_clean_store_id,
            shape=_STORE_ID.pattern,
        ),
        Field(
            "secret_token",
            "Secret token",
            hint="Starts with secret_. The public_ token is not enough.",
            example="secret_AbCdEf…",
            secret=True,
            clean=_clean_secret,
            shape=_SECRET.pattern,
        ),
    )
    troubleshooting = (
        Trouble(
            "Some permissions cannot be ticked when creating the app",
            "They have to be granted by Ecwid: use *Contact* under *Request Ecwid team to "
            "update app details*, list them, then reinstall the app once they are added.",
        ),
        Trouble(
            "The secret token is not shown",
            "Open the custom app again and click *Show secret token*. If it still does not "
            "appear, the install did not finish: uninstall it under Apps › My Apps and "
            "reinstall it from #develop-apps.",
        ),
        Trouble(
            "A token that used to work is now refused",
            "Changing, reinstalling or recreating the app issues a new token and retires the "
            "old one. Copy the current secret token from the app's page.",
        ),
        Trouble(
            "\"API is not available on your plan\" (HTTP 402)",
            "The Ecwid plan does not include API access, or the store is suspended. Upgrade "
            "the plan or settle the account, then verify again.",
        ),
        Trouble(
            "Verification blocked after several tries",
            "Ecwid temporarily blocks callers that repeat invalid tokens. Fix the token "
            "first, then wait a few minutes before trying again.",
        ),
    )

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        base = f"https://{API_HOST}/api/v3/{values['store_id']}"
        headers = {
            "Authorization": f"Bearer {values['secret_token']}",
            "Accept": "application/json",
        }
        profile_reply = http.request(self, "GET", base + "/profile", headers=headers)
        if profile_reply.status != 200:
            refused = self._refused(profile_reply)
            if refused.failure is Failure.MISSING_PERMISSION:
                # The profile (and so the store's name) is out of reach: name the store by
                # its ID, so the person still knows which store the token works for.
                return VerifyResult.failed(
                    refused.failure, refused.detail, field=refused.field,
                    account=f"store {values['store_id']}",
                )
            raise refused
        found, notes = self._found(profile_reply.json_object())

        # The token was accepted just above, so this second call cannot count as a repeat
        # of a bad token; its failures are read, never retried.
        scopes_reply = http.request(self, "GET", base + "/application/token", headers=headers)
        warnings = list(notes)
        if scopes_reply.status != 200:
            # The endpoint comes from Ecwid's own client, not its public docs: if it is not
            # there, say what could not be checked instead of failing a working token.
            warnings.append(
                "Ecwid did not list this token's permissions, so they were not checked. Make "
                "sure the app has every permission listed in the guide."
            )
            return VerifyResult(ok=True, warnings=tuple(warnings), **found)
        permissions = scopes_reply.json_object().get("permissions")
        if not isinstance(permissions, list):
            raise VerifyError(
                Failure.UNEXPECTED, "Ecwid listed the token's permissions in an unexpected shape."
            )
        granted = tuple(sorted({str(p) for p in permissions if isinstance(p, str)}))
        missing = tuple(
            s for s in REQUIRED_SCOPES if s not in granted and s not in ALWAYS_GRANTED
        )
        if missing:
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                f"The token works, but the app lacks {len(missing)} permission"
                f"{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. Ask Ecwid to add "
                "them (Contact, under Request Ecwid team to update app details), reinstall the "
                "app, then paste its new secret token.",
                field="secret_token",
                granted=granted,
                missing=missing,
                warnings=tuple(warnings),
                **found,
            )
        return VerifyResult(ok=True, granted=granted, warnings=tuple(warnings), **found)

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _found(profile: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """What the profile tells (store name, address, account), and notes worth a warning."""
        def section(name: str) -> Mapping[str, Any]:
            value = profile.get(name)
            return value if isinstance(value, Mapping) else {}

        settings, general, account = section("settings"), section("generalInfo"), section("account")
        name = settings.get("storeName")
        url = general.get("storeUrl")
        who = account.get("accountName") or account.get("accountEmail")
        warnings: list[str] = []
        if settings.get("closed") is True:
            warnings.append("The store is marked as closed for maintenance in Ecwid.")
        found = {
            "store_name": str(name) if name else None,
            "store_url": str(url) if url else None,
            "account": str(who) if who else None,
        }
        return found, warnings

    def _refused(self, reply: Reply) -> VerifyError:
        code = str(reply.json_or_empty().get("errorCode") or "")
        if reply.status == 404:
            return VerifyError(
                Failure.WRONG_IDENTIFIER,
                "Ecwid has no store with this ID. Copy the Store ID from your custom app's page.",
                field="store_id",
            )
        if reply.status == 402:
            if code == "STORE_IS_SUSPENDED":
                detail = (
                    "Ecwid says this store is suspended, so its API is switched off. Settle the "
                    "account in Ecwid, then verify again."
                )
            else:
                detail = (
                    "This store's Ecwid plan does not include API access. Upgrade to a plan "
                    "with API access, then verify again."
                )
            return VerifyError(Failure.NO_API_ACCESS, detail)
        if reply.status == 403 and code == "INSUFFICIENT_APP_SCOPE":
            return VerifyError(
                Failure.MISSING_PERMISSION,
                "Ecwid accepted the token but the app may not read the store profile. "
                "Reinstall the app from #develop-apps and paste its new secret token.",
                field="secret_token",
            )
        if reply.status in (401, 403):
            return VerifyError(
                Failure.BAD_CREDENTIAL,
                "Ecwid did not accept this secret token for this store: it is mistyped, was "
                "replaced when the app was changed or reinstalled, or belongs to another store. "
                "Copy the current secret token from the app's page. Ecwid blocks repeated bad "
                "tokens, so check it before trying again.",
                field="secret_token",
            )
        return VerifyError(
            Failure.UNEXPECTED, f"Ecwid answered with an unexpected HTTP {reply.status}."
        )


FLOW = EcwidFlow()
