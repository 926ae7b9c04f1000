"""R-Series' guide (steps, fields, troubleshooting), the verification of a token, and its
renewal for owners who opt in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flows.base import (
    CheckResult,
    Failure,
    Field,
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
from flows.http import PlatformHttp, Reply
from flows.lightspeed_r.renewal import AUTH_HOST, refresh_grant
from flows.lightspeed_r.tokens import (
    ACCESS_SHAPE,
    REFRESH_SHAPE,
    audience,
    claims,
    clean_access,
    clean_refresh,
    expires_at,
    pasted_tokens,
    scopes,
)
from flows.purpose import unchecked

API_HOST = "api.lightspeedapp.com"
ACCOUNT_URL = f"https://{API_HOST}/API/V3/Account.json"

# Scope that lets an app read everything (assumption from the scope list: a migration reads
# every area, and narrower scopes leave some out).
FULL_SCOPE = "employee:all"


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
            clean=clean_access,
            shape=ACCESS_SHAPE,
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
            clean=clean_refresh,
            shape=REFRESH_SHAPE,
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
        picked = pasted_tokens(values.get("access_token") or "")
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
        outcome = refresh_grant(self, values, http, client_id, client_secret)
        if isinstance(outcome, VerifyResult):
            return outcome
        return Renewal(values=outcome, expires_at=expires_at(outcome["access_token"]))


FLOW = LightspeedRFlow()


def refresh(
    values: Mapping[str, str], http: PlatformHttp, client_id: str, client_secret: str
) -> dict[str, str] | VerifyResult:
    """R-Series' refresh-token grant (see `refresh_grant`): the new field values, or a failed
    VerifyResult."""
    return refresh_grant(FLOW, values, http, client_id, client_secret)
