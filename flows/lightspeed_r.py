"""Lightspeed R-Series (Retail POS): an OAuth access token, and optionally its refresh token.

R-Series has no personal keys: a person authorises an app, which receives a short-lived access
token and a refresh token. How short is the token's own business: Lightspeed says access tokens
"generally expire after 60 minutes", yet its refresh example answers "expires_in": 1800
(developers.lightspeedhq.com/retail/authentication, platform-apis.md §5). So getkey never says
"about an hour": it quotes the expiry the token carries (the JWT's `exp`), and otherwise says only
that the token is short-lived. The source guide's app hands over a file holding
"the API Key" without saying what it looks like, so any token is accepted and the Account call
decides. When the token is a JWT (Lightspeed's current tokens are), its claims tell expiry,
account, scopes and the app it was issued to (`aud`); they are read without checking the
signature, because Lightspeed's answer, not the claims, decides whether the token works.

`refresh()` performs the documented refresh-token grant for the reminders side.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flows.base import (
    CheckResult,
    Failure,
    Field,
    FieldError,
    Flow,
    Purpose,
    Renewal,
    RenewalNotPossible,
    Step,
    Trouble,
    VerifyError,
    VerifyResult,
    field_error,
)
from flows.cleaning import looks_like_url, token, unwrap
from flows.http import PlatformHttp, Reply
from flows.purpose import unchecked

API_HOST = "api.lightspeedapp.com"
AUTH_HOST = "cloud.lightspeedapp.com"
ACCOUNT_URL = f"https://{API_HOST}/API/V3/Account.json"
TOKEN_URL = f"https://{AUTH_HOST}/auth/oauth/token"

log = logging.getLogger(__name__)

# Scope that lets an app read everything (assumption from the scope list: a migration reads
# every area, and narrower scopes leave some out).
FULL_SCOPE = "employee:all"

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Any token the API might accept as a Bearer token: RFC 6750's b64token syntax, the only thing
# an "Authorization: Bearer" header can carry. A JWT-looking value must also decode, which the
# cleaner checks; everything else is for Lightspeed to judge.
_ACCESS_SHAPE = r"[A-Za-z0-9._~+/-]+=*"
_REFRESH = re.compile(r"[A-Za-z0-9._~+/=-]{20,3000}")
# A refresh token is never the access token (an eyJ… value with exactly two dots).
_REFRESH_SHAPE = r"(?!eyJ[^.]*\.[^.]*\.[^.]*$)" + _REFRESH.pattern


def _b64json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    # RecursionError: about a thousand nested brackets exhaust the JSON decoder's depth.
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def claims(access_token: str) -> dict[str, Any]:
    """The JWT's payload, unverified. Empty if the token is not a readable JWT."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return {}
    payload = _b64json(parts[1])
    return payload if isinstance(payload, dict) else {}


def expires_at(access_token: str) -> datetime | None:
    exp = claims(access_token).get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and 0 < exp < 32503680000:
        return datetime.fromtimestamp(exp, tz=UTC)
    return None


def scopes(access_token: str) -> tuple[str, ...]:
    scope = claims(access_token).get("scope")
    if isinstance(scope, str):
        return tuple(s for s in scope.split() if s)
    if isinstance(scope, list):
        return tuple(str(s) for s in scope if s)
    return ()


def _picked(raw: str) -> dict[str, str]:
    """Tokens from a pasted token-endpoint answer ({"access_token": …}) or a key file with
    'name: value' lines; {} when the paste is a single value."""
    text = unwrap(raw)
    found: dict[str, str] = {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # deep nesting exhausts the decoder's depth
            return {}
        if isinstance(data, dict):
            for key in ("access_token", "refresh_token"):
                if isinstance(data.get(key), str):
                    found[key] = data[key]
        return found
    for line in text.splitlines():
        name, sep, value = line.partition(":") if ":" in line else line.partition("=")
        name = re.sub(r"[\s_-]+", " ", name.strip().lower())
        if not sep or not value.strip():
            continue
        if "refresh" in name:
            found["refresh_token"] = value.strip()
        elif "access" in name or name in ("token", "api key", "authorization"):
            found["access_token"] = value.strip()
    return found


def _is_jwt(value: str) -> bool:
    return value.startswith("eyJ") and value.count(".") == 2


def _clean_access(raw: str) -> str:
    picked = _picked(raw).get("access_token")
    value = token(picked if picked is not None else raw, "The access token")
    if "://" in value:
        raise FieldError(
            "That is a web address. Paste the access token (the API key) itself."
        )
    if value.startswith("def50"):
        raise FieldError(
            "This is the refresh token. The access token is the other value the app gave you."
        )
    if not re.fullmatch(_ACCESS_SHAPE, value):
        raise FieldError(
            "The access token has characters a token never contains (only letters, digits and "
            "- . _ ~ + / =). Copy the key alone, or paste the whole file the app gave you."
        )
    # Only a value that claims to be a JWT can be judged by format: one that does not decode
    # was cut or altered on the way. Anything else is left to Lightspeed to judge.
    if _is_jwt(value) and (
        not _JWT.fullmatch(value) or not claims(value) or _b64json(value.split(".")[0]) is None
    ):
        raise FieldError(
            "This looks like a token that was cut or altered: its middle part does not decode. "
            "Copy it again, whole, from where the app gave it to you."
        )
    return value


def audience(access_token: str) -> tuple[str, ...]:
    """The client IDs the token was issued to (the `aud` claim); empty when unknown."""
    aud = claims(access_token).get("aud")
    if isinstance(aud, str):
        return (aud,) if aud else ()
    if isinstance(aud, list):
        return tuple(str(a) for a in aud if isinstance(a, str) and a)
    return ()


def _clean_refresh(raw: str) -> str:
    picked = _picked(raw).get("refresh_token")
    value = token(picked if picked is not None else raw, "The refresh token")
    if looks_like_url(value):
        raise FieldError("That is a web address. Paste the refresh token itself.")
    if _is_jwt(value):
        raise FieldError(
            "This is the access token. The refresh token is the other, longer value "
            "(it usually starts with def50)."
        )
    if not _REFRESH.fullmatch(value):
        raise FieldError(
            "A refresh token is one long run of letters and digits. Copy it again, whole."
        )
    return value


def _account_of(body: dict[str, Any]) -> dict[str, Any]:
    account = body.get("Account")
    if isinstance(account, list):  # several accounts come back as a list
        account = account[0] if account else None
    if not isinstance(account, dict) or not account.get("accountID"):
        raise VerifyError(Failure.UNEXPECTED, "Lightspeed R-Series answered without an account.")
    return account


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# The operator's app credentials for the refresh-token grant (never a person's secret).
CLIENT_ENV = ("GETKEY_LIGHTSPEED_R_CLIENT_ID", "GETKEY_LIGHTSPEED_R_CLIENT_SECRET")


class LightspeedRFlow(Flow):
    id = "lightspeed-r"
    name = "Lightspeed R-Series"
    aliases = ("lightspeed retail", "lightspeed r-series", "r-series", "lightspeed r series")
    summary = (
        "An access token from authorising an app on your Retail account, and its refresh token "
        "so access can outlive the short-lived access token."
    )
    api_base = f"https://{API_HOST}"
    hosts = (API_HOST, AUTH_HOST)
    # Refresh tokens die after 30 unused days: ask for attention well before that.
    family = "lightspeed"
    edition = "R-Series"
    recognise = (
        "Retail POS (formerly Lightspeed Retail): there are no personal API keys; an app gets "
        "access when you click *Authorize Application* on its link."
    )
    rotation_days = 25
    # Full access ("employee:all") is what a migration asks for either way; R-Series states a
    # token's scopes inside it, so this is checked without another call.
    needs = {Purpose.WRITE: (FULL_SCOPE,)}
    purpose_fix = {
        Purpose.WRITE: "Authorise the app again and approve full access (employee:all).",
    }
    revoke_steps = (
        Step(
            "Ask for the access to be revoked",
            "The access belongs to the app you authorised: ask whoever runs it to revoke the "
            "token with Lightspeed (its OAuth revoke call). Both the access and refresh tokens "
            "then stop working.",
        ),
        Step(
            "Stop any renewal",
            "If getkey was allowed to renew this access, deleting it here ends that too: an "
            "unused refresh token lapses by itself after 30 days.",
        ),
    )
    identity_fields = ()
    steps = (
        Step(
            "Log in as an admin",
            "Log in to your Lightspeed R-Series back office with a user allowed to add apps.",
        ),
        Step(
            "Open the app's authorisation link",
            "R-Series has no personal API keys: access is granted to an app. Open the "
            "authorisation link given by the team or tool that will use the access.",
        ),
        Step(
            "Approve the access asked for",
            "Check the list of permissions the app asks for and click *Authorize Application*. "
            "For a migration the app needs to read everything (the full 'employee:all' access).",
        ),
        Step(
            "Keep the file or page that follows",
            "Depending on the app, you then download a file (for example lightspeed_api_key.txt) "
            "or see the key on screen. What it holds is the app's access to your account, "
            "whatever it is called there (API key or access token). Treat it like a password.",
        ),
        Step(
            "Paste it as it is",
            "Paste the file's contents, or the key shown, into the access token box; getkey "
            "picks out what it needs and Lightspeed decides whether it works. If the app also "
            "gave you a refresh token, paste it too: access tokens stop working at the expiry "
            "they carry (often within the hour), and only the refresh token can renew them.",
        ),
    )
    fields = (
        Field(
            "access_token",
            "Access token (API key)",
            hint="The key the app gave you. You can paste the whole file (e.g. "
            "lightspeed_api_key.txt) or JSON as it is.",
            example="contents of lightspeed_api_key.txt",
            secret=True,
            multiline=True,
            clean=_clean_access,
            shape=_ACCESS_SHAPE,
        ),
        Field(
            "refresh_token",
            "Refresh token (optional)",
            hint="Lets getkey renew access once the access token expires. Usually starts with "
            "def50.",
            example="def50200a1b2…",
            required=False,
            secret=True,
            multiline=True,
            clean=_clean_refresh,
            shape=_REFRESH_SHAPE,
        ),
    )
    troubleshooting = (
        Trouble(
            "\"Access token could not be verified\" (401)",
            "The access token passed its own expiry (each token carries one, often within the "
            "hour) or was mistyped. Paste a fresh one, or give the refresh token so it can be "
            "renewed.",
        ),
        Trouble(
            "\"Access token has been revoked\" (401)",
            "The app was disconnected, or a refresh already replaced this token. Authorise the "
            "app again and paste the new tokens.",
        ),
        Trouble(
            "The refresh token stopped working (invalid_grant)",
            "A refresh token left unused for 30 days expires, and each refresh replaces it with "
            "a new one. Authorise the app again to start over.",
        ),
        Trouble(
            "429 Too Many Requests",
            "R-Series limits each account with a leaky bucket whose size depends on the number "
            "of registers. Wait a little and try again.",
        ),
    )

    def check(self, raw: Mapping[str, str | None]) -> CheckResult:
        # A pasted token answer or key file holds both tokens: use its refresh token too.
        values = dict(raw)
        picked = _picked(values.get("access_token") or "")
        if picked.get("refresh_token") and not (values.get("refresh_token") or "").strip():
            values["refresh_token"] = picked["refresh_token"]
        return super().check(values)

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        if values.get("refresh_token") and values["refresh_token"] == values.get("access_token"):
            raise field_error(
                "The refresh token is the same as the access token.", "refresh_token"
            )
        return values

    def identity(self, values: Mapping[str, str]) -> str:
        acct = claims(values.get("access_token", "")).get("acct")
        return f"account {acct}" if isinstance(acct, str | int) and str(acct) else self.id

    def check_purpose(
        self, purpose: Purpose, values: Mapping[str, str], http: PlatformHttp,
        result: VerifyResult,
    ) -> VerifyResult:
        if result.ok and purpose is Purpose.WRITE and not result.granted:
            # A token that states no scopes cannot be judged: say so rather than refuse it.
            return unchecked(result, "This token does not state its access, so getkey could "
                             "not check that it can write. Approve full access (employee:all) "
                             "when authorising the app.")
        return super().check_purpose(purpose, values, http, result)

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        access = values["access_token"]
        expiry = expires_at(access)
        granted = scopes(access)
        reply = http.request(
            self,
            "GET",
            ACCOUNT_URL,
            headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
        )
        if reply.status == 401:
            raise self._rejected(reply, expiry, bool(values.get("refresh_token")))
        if reply.status == 403:
            shown = ", ".join(granted) or "not stated in the token"
            acct = claims(access).get("acct")
            named = f"account {acct}" if isinstance(acct, str | int) and str(acct) else None
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                f"The token works but may not read the account (its access: {shown}). "
                "Authorise the app again and approve full access (employee:all).",
                field="access_token",
                account=named,
                identity=named,
                granted=granted,
                missing=(FULL_SCOPE,),
            )
        if reply.status != 200:
            raise VerifyError(
                Failure.UNEXPECTED,
                f"Lightspeed R-Series answered with an unexpected HTTP {reply.status}.",
            )
        account = _account_of(reply.json_object())
        warnings: list[str] = []
        if granted and FULL_SCOPE not in granted:
            warnings.append(
                "The token's access is limited to " + ", ".join(granted) + "; a migration "
                "usually needs full access (employee:all)."
            )
        if not values.get("refresh_token"):
            warnings.append(
                "Without the refresh token this access ends when the token expires"
                + (f" ({_when(expiry)})." if expiry else ".")
            )
        return VerifyResult(
            ok=True,
            detail=(f"The access token expires at {_when(expiry)}, as the token itself states."
                    if expiry else ""),
            store_name=str(account.get("name") or "") or None,
            account=str(account["accountID"]),
            granted=granted,
            expires_at=expiry,
            warnings=tuple(warnings),
            # The Account call names the account even when the token does not say it.
            identity=f"account {account['accountID']}",
        )

    def _rejected(self, reply: Reply, expiry: datetime | None, has_refresh: bool) -> VerifyError:
        hint = str(reply.json_or_empty().get("hint") or "").lower()
        if "revoked" in hint:
            detail = (
                "Lightspeed R-Series says this token was revoked: the app was disconnected or "
                "a refresh replaced it. Authorise the app again and paste the new tokens."
            )
        elif expiry and expiry <= datetime.now(UTC):
            detail = (
                f"This access token expired at {_when(expiry)}, the expiry it carries. "
                "Paste a fresh one"
                + (", with its refresh token." if not has_refresh else ".")
            )
        else:
            detail = (
                "Lightspeed R-Series did not accept this access token: it is mistyped, expired "
                "or revoked. Copy it again, whole, or authorise the app again."
            )
        return VerifyError(Failure.BAD_CREDENTIAL, detail, field="access_token")


    renewal_consent = (
        "Renewing replaces the refresh token: any other tool holding a copy of this token "
        "(for example the app you authorised) loses its access at the next renewal. Only turn "
        "this on if getkey is the only holder."
    )

    def can_renew(self, environ: Mapping[str, str]) -> bool:
        """True when the operator configured the app client (ID and secret) renewals use."""
        return all((environ.get(name) or "").strip() for name in CLIENT_ENV)

    def renew(
        self, values: Mapping[str, str], http: PlatformHttp, environ: Mapping[str, str]
    ) -> Renewal | RenewalNotPossible | VerifyResult | None:
        """Refresh-token grant with the operator's client, for a credential whose owner opted
        in. Only the app a token was issued to (its `aud` claim) can refresh it; any other
        client would be refused, and that refusal would wrongly read as a settings problem,
        so such tokens get RenewalNotPossible without any call."""
        if not values.get("refresh_token") or not self.can_renew(environ):
            return None
        client_id, client_secret = ((environ.get(name) or "").strip() for name in CLIENT_ENV)
        issued_to = audience(values.get("access_token", ""))
        if client_id not in issued_to:
            return RenewalNotPossible(
                "getkey cannot renew this token: it was issued to another app than getkey's, "
                "and only that app can renew it. Authorise again "
                "before it expires, or let the app that holds it renew it."
                if issued_to
                else "getkey cannot renew this token: the token does not say which app it was "
                "issued to, and only that app can renew it. Authorise again before it expires."
            )
        outcome = refresh(values, http, client_id, client_secret)
        if isinstance(outcome, VerifyResult):
            return outcome
        return Renewal(values=outcome, expires_at=expires_at(outcome["access_token"]))


FLOW = LightspeedRFlow()


# -- refresh ------------------------------------------------------------------------------


def refresh(
    values: Mapping[str, str], http: PlatformHttp, client_id: str, client_secret: str
) -> dict[str, str] | VerifyResult:
    """Trade the stored refresh token for a new access token and refresh token.

    Returns the new field values ({"access_token", "refresh_token"}) on success, or a failed
    VerifyResult. Lightspeed revokes the old refresh token once the new access token is used,
    so the caller must store both new tokens (atomically) before using them; the new expiry
    is `expires_at(new["access_token"])`. Never retried: refreshing too often gets the app
    rate-limited.
    """
    old_refresh = values.get("refresh_token") or ""
    if not old_refresh:
        return VerifyResult.failed(
            Failure.BAD_CREDENTIAL,
            "There is no refresh token stored for this account, so it cannot be renewed. "
            "Authorise the app again and paste both tokens.",
            field="refresh_token",
        )
    form = {
        "grant_type": "refresh_token",
        "refresh_token": old_refresh,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        reply = http.request(
            FLOW, "POST", TOKEN_URL, headers={"Accept": "application/json"}, form=form
        )
        return _refreshed(reply, old_refresh)
    except VerifyError as exc:
        return exc.result()
    except Exception as exc:
        # The exception text could quote the form; log only its type.
        log.error("refresh crashed", extra={"platform": FLOW.id, "error": type(exc).__name__})
        return VerifyResult.failed(
            Failure.UNEXPECTED, "Something went wrong while renewing the Lightspeed R-Series token."
        )


def _refreshed(reply: Reply, old_refresh: str) -> dict[str, str]:
    if reply.status in (400, 401):
        error = str(reply.json_or_empty().get("error") or "")
        if error == "invalid_client" or reply.status == 401:
            raise VerifyError(
                Failure.BAD_CREDENTIAL,
                "Lightspeed R-Series refused the app's client ID or secret, so the token could "
                "not be renewed. Check GETKEY_LIGHTSPEED_R_CLIENT_ID and _SECRET.",
            )
        raise VerifyError(
            Failure.BAD_CREDENTIAL,
            "Lightspeed R-Series no longer accepts this refresh token (unused for 30 days, "
            "already used, or the app was disconnected). Authorise the app again and paste "
            "the new tokens.",
            field="refresh_token",
        )
    if reply.status != 200:
        raise VerifyError(
            Failure.UNEXPECTED,
            f"Lightspeed R-Series answered the renewal with an unexpected HTTP {reply.status}.",
        )
    body = reply.json_object()
    access = body.get("access_token")
    if not isinstance(access, str) or not re.fullmatch(_ACCESS_SHAPE, access):
        raise VerifyError(
            Failure.UNEXPECTED, "Lightspeed R-Series answered the renewal without a new token."
        )
    new_refresh = body.get("refresh_token")
    return {
        "access_token": access,
        "refresh_token": new_refresh if isinstance(new_refresh, str) and new_refresh
        else old_refresh,
    }
