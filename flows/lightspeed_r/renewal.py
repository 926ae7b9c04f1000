"""The refresh-token grant: a stored refresh token traded for new tokens."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from flows.base import Failure, VerifyError, VerifyResult
from flows.http import Platform, PlatformHttp, Reply
from flows.lightspeed_r.tokens import ACCESS_SHAPE

AUTH_HOST = "cloud.lightspeedapp.com"
TOKEN_URL = f"https://{AUTH_HOST}/auth/oauth/token"

log = logging.getLogger(__name__)


def refresh_grant(
    platform: Platform,
    values: Mapping[str, str],
    http: PlatformHttp,
    client_id: str,
    client_secret: str,
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
            platform, "POST", TOKEN_URL, headers={"Accept": "application/json"}, form=form
        )
        return _refreshed(reply, old_refresh)
    except VerifyError as exc:
        return exc.result()
    except Exception as exc:
        # The exception text could quote the form; log only its type.
        log.error("refresh crashed", extra={"platform": platform.id, "error": type(exc).__name__})
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
    if not isinstance(access, str) or not re.fullmatch(ACCESS_SHAPE, access):
        raise VerifyError(
            Failure.UNEXPECTED, "Lightspeed R-Series answered the renewal without a new token."
        )
    new_refresh = body.get("refresh_token")
    return {
        "access_token": access,
        "refresh_token": new_refresh if isinstance(new_refresh, str) and new_refresh
        else old_refresh,
    }
