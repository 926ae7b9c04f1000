"""Lightspeed R-Series as documented: JWT access tokens (acct, scope, exp claims) sent as
Bearer to api.lightspeedapp.com, the refresh-token grant on cloud.lightspeedapp.com with form
fields, rotating refresh tokens, 401 bodies with a `hint`, leaky-bucket rate-limit headers."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from urllib.parse import parse_qs

from tests.platforms.server import PlatformServer, Request, Response

API_HOST = "api.lightspeedapp.com"
AUTH_HOST = "cloud.lightspeedapp.com"
ACCOUNT_ID = "187654"
CLIENT_ID = "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2"
CLIENT_SECRET = "s3cr3t0f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_token(scope: str = "employee:all", *, exp: float | None = None,
               acct: str = ACCOUNT_ID, aud: str = CLIENT_ID) -> str:
    header = {"typ": "JWT", "alg": "RS256", "kid": "RT_OAUTH2_2024_07_08"}
    now = int(time.time())
    payload = {
        "iss": "https://cloud.lightspeedapp.com", "aud": aud, "sub": "7",
        "jti": secrets.token_hex(8), "acct": acct, "scope": scope,
        "iat": now, "nbf": now, "exp": int(exp if exp is not None else now + 3600),
    }
    return f"{_b64(header)}.{_b64(payload)}.{secrets.token_urlsafe(64)}"


def make_refresh() -> str:
    return "def50200" + secrets.token_hex(180)


ACCESS = make_token()
REFRESH = make_refresh()
FORBIDDEN = make_token("employee:register")  # may not read the account
NARROW = make_token("employee:inventory employee:reports")
EXPIRED = make_token(exp=time.time() - 600)
REVOKED = make_token()
# Issued to another app (the one whose authorisation link was used), not getkey's client.
OTHER_APP = make_token(aud="0ther" + CLIENT_ID[5:])
# The source guide's file holds "the API Key" in an undocumented format: an opaque token.
OPAQUE = secrets.token_urlsafe(40)


def good_values() -> dict[str, str]:
    return {"access_token": ACCESS, "refresh_token": REFRESH}


def _denied(hint: str) -> Response:
    return Response(401, {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request.",
        "hint": hint,
        "message": "The resource owner or authorization server denied the request.",
    })


class LightspeedRServer(PlatformServer):
    flow_id = "lightspeed-r"

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.valid = {ACCESS, FORBIDDEN, NARROW, OTHER_APP, OPAQUE}
        self.refresh_tokens = {REFRESH}
        # new access token -> the refresh token it replaces; revoked on the token's first use
        self.pending: dict[str, str] = {}

    def rate_limited(self, req: Request) -> Response:
        return Response(429, {"httpCode": "429", "httpMessage": "Too Many Requests",
                              "message": "Rate Limit Exceeded"},
                        {"Retry-After": "12", "X-LS-API-Bucket-Level": "60/60",
                         "X-LS-API-Drip-Rate": "1"})

    def handle(self, req: Request) -> Response:
        if req.host == AUTH_HOST and req.method == "POST" and req.path == "/auth/oauth/token":
            return self.token(req)
        if req.host != API_HOST or req.path != "/API/V3/Account.json" or req.method != "GET":
            return Response(404, {"httpCode": "404", "httpMessage": "Not Found",
                                  "message": "Not Found"})
        auth = req.headers.get("authorization", "")
        access = auth[7:] if auth.startswith("Bearer ") else ""
        with self.lock:
            if access == REVOKED:
                return _denied("Access token has been revoked")
            if access not in self.valid:
                return _denied("Access token could not be verified")
            old = self.pending.pop(access, None)
            if old:
                self.refresh_tokens.discard(old)
        if access == FORBIDDEN:
            return Response(403, {"httpCode": "403", "httpMessage": "Forbidden",
                                  "message": "Permission denied for this resource.",
                                  "errorClass": "Exception"})
        return Response(200, {
            "@attributes": {"count": "1"},
            "Account": {"accountID": ACCOUNT_ID, "name": "Green Leaf Garden Supply",
                        "link": {"@attributes": {"href": f"/API/V3/Account/{ACCOUNT_ID}"}}},
        }, {"X-LS-API-Bucket-Level": "1/60", "X-LS-API-Drip-Rate": "1"})

    def token(self, req: Request) -> Response:
        if "application/x-www-form-urlencoded" not in req.headers.get("content-type", ""):
            return Response(400, {"error": "invalid_request",
                                  "error_description": "The request is missing a required "
                                                       "parameter."})
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return Response(400, {"error": "invalid_request",
                                  "error_description": "The request is missing a required "
                                                       "parameter."})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Response(401, {"error": "invalid_client",
                                  "error_description": "Client authentication failed"})
        with self.lock:
            if form["refresh_token"] not in self.refresh_tokens:
                return Response(400, {"error": "invalid_grant",
                                      "error_description": "The refresh token is invalid.",
                                      "hint": "Token has been revoked"})
            access, new_refresh = make_token(), make_refresh()
            self.valid.add(access)
            self.refresh_tokens.add(new_refresh)
            self.pending[access] = form["refresh_token"]
        return Response(200, {"token_type": "Bearer", "expires_in": 3600,
                              "access_token": access, "refresh_token": new_refresh})


def missing_permission_values() -> list[dict[str, str]]:
    """Values this stand-in answers as "token works, may not read the account"."""
    return [{"access_token": FORBIDDEN, "refresh_token": ""}]


SERVER = LightspeedRServer
