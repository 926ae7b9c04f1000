from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.base import Failure, RenewalNotPossible, VerifyResult
from flows.lightspeed_r import FLOW, claims, expires_at, refresh
from tests.builders import flow_runner, own_platform_server
from tests.conftest import http_for
from tests.platforms import lightspeed_r as server_mod

server = own_platform_server(server_mod.LightspeedRServer)
run = flow_runner(FLOW, server_mod.good_values)


def test_success_shows_account_scopes_and_expiry(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == "Green Leaf Garden Supply"
    assert result.account == server_mod.ACCOUNT_ID
    assert result.granted == ("employee:all",)
    assert result.expires_at is not None
    assert timedelta(minutes=50) < result.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    assert not result.warnings
    req = server.requests[-1]
    assert req.host == "api.lightspeedapp.com" and req.path == "/API/V3/Account.json"
    assert req.headers["authorization"] == "Bearer " + server_mod.ACCESS


def test_identity_is_the_account_from_the_token():
    assert FLOW.identity(server_mod.good_values()) == f"account {server_mod.ACCOUNT_ID}"


def test_without_refresh_token_warns_that_access_ends(server):
    result = run(server, refresh_token="")
    assert result.ok and "refresh token" in result.warnings[0]


def test_narrow_scope_is_shown_and_warned(server):
    result = run(server, access_token=server_mod.NARROW)
    assert result.ok
    assert result.granted == ("employee:inventory", "employee:reports")
    assert "employee:all" in result.warnings[0]


def test_wrong_token(server):
    bad = server_mod.make_token()  # well-formed, but Lightspeed never issued it
    result = run(server, access_token=bad)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "access_token"
    assert len(server.requests) == 1


def test_expired_token_says_when(server):
    result = run(server, access_token=server_mod.EXPIRED)
    assert result.failure is Failure.BAD_CREDENTIAL
    assert "expired at" in result.detail and "UTC" in result.detail


def test_revoked_token(server):
    result = run(server, access_token=server_mod.REVOKED)
    assert result.failure is Failure.BAD_CREDENTIAL and "revoked" in result.detail


def test_missing_permission(server):
    result = run(server, access_token=server_mod.FORBIDDEN)
    assert result.failure is Failure.MISSING_PERMISSION
    assert "employee:register" in result.detail


def test_rate_limit_says_when(server):
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED and result.retry_after == 12


# -- refresh -------------------------------------------------------------------------------
def test_refresh_rotates_both_tokens_and_old_one_dies(server):
    http = http_for(server)
    new = refresh(server_mod.good_values(), http, server_mod.CLIENT_ID, server_mod.CLIENT_SECRET)
    assert isinstance(new, dict), new
    assert new["access_token"] != server_mod.ACCESS
    assert new["refresh_token"] != server_mod.REFRESH
    req = server.requests[-1]
    assert req.host == "cloud.lightspeedapp.com" and req.path == "/auth/oauth/token"
    assert req.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert b"grant_type=refresh_token" in req.body
    # The new pair works, and the stored values pass the flow's own checks.
    checked = FLOW.check(new)
    assert checked.ok and FLOW.run_verify(checked.values, http).ok
    # Using the new access token revoked the old refresh token.
    again = refresh(server_mod.good_values(), http, server_mod.CLIENT_ID,
                    server_mod.CLIENT_SECRET)
    assert isinstance(again, VerifyResult) and again.failure is Failure.BAD_CREDENTIAL
    assert again.field == "refresh_token" and "Authorise" in again.detail


def test_refresh_with_wrong_client_secret(server):
    result = refresh(server_mod.good_values(), http_for(server), server_mod.CLIENT_ID, "nope")
    assert isinstance(result, VerifyResult) and result.failure is Failure.BAD_CREDENTIAL
    assert "client ID or secret" in result.detail
    assert server_mod.REFRESH not in result.detail


def test_refresh_without_refresh_token_makes_no_call(server):
    result = refresh({"access_token": server_mod.ACCESS}, http_for(server), "a", "b")
    assert isinstance(result, VerifyResult) and result.field == "refresh_token"
    assert server.requests == []


def test_refresh_rate_limited(server):
    server.fault = "rate_limit"
    result = refresh(server_mod.good_values(), http_for(server), server_mod.CLIENT_ID,
                     server_mod.CLIENT_SECRET)
    assert isinstance(result, VerifyResult) and result.failure is Failure.RATE_LIMITED


def test_refresh_redirect_not_followed(server):
    server.fault = "redirect"
    result = refresh(server_mod.good_values(), http_for(server), server_mod.CLIENT_ID,
                     server_mod.CLIENT_SECRET)
    assert isinstance(result, VerifyResult) and result.failure is Failure.UNEXPECTED
    assert len(server.requests) == 1


# -- paste mistakes ------------------------------------------------------------------------
A = server_mod.ACCESS


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("  " + A + "\n", None),
        ('"' + A + '"', None),
        ("Bearer " + A, None),
        ("Authorization: Bearer " + A, None),
        (A[:60] + "\n" + A[60:], "spaces or line breaks"),
        (server_mod.REFRESH, "refresh token"),
        ("https://cloud.lightspeedapp.com/auth/oauth/authorize", "web address"),
        ("eyJhbGciOiJub25lIn0.bm90IGpzb24.c2ln", "cut or altered"),
        # JSON nested past the decoder's depth raised RecursionError instead of a message:
        # in a pasted token answer, and in the token's own payload.
        ('{"access_token":' + "[" * 1400 + "]" * 1400 + "}", "characters a token never"),
        (A.split(".")[0] + "." + "W1tb" * 400 + "." + A.split(".")[2], "cut or altered"),
    ],
)
def test_access_token_paste_mistakes(raw, fragment):
    result = FLOW.check({"access_token": raw, "refresh_token": ""})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["access_token"] == A
    else:
        assert fragment in result.errors["access_token"]
        assert raw.strip() not in result.errors["access_token"]


def test_pasted_token_answer_fills_both_fields():
    pasted = json.dumps({"token_type": "Bearer", "expires_in": 3600,
                         "access_token": A, "refresh_token": server_mod.REFRESH}, indent=2)
    result = FLOW.check({"access_token": pasted, "refresh_token": ""})
    assert result.ok, result.errors
    assert result.values == {"access_token": A, "refresh_token": server_mod.REFRESH}


def test_pasted_key_file_fills_both_fields():
    pasted = f"Access Token: {A}\nRefresh Token: {server_mod.REFRESH}\n"
    result = FLOW.check({"access_token": pasted, "refresh_token": None})
    assert result.values == {"access_token": A, "refresh_token": server_mod.REFRESH}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (A, "access token"),
        (server_mod.REFRESH[:50] + " " + server_mod.REFRESH[50:], "spaces"),
        ("def50", "long run"),
    ],
)
def test_refresh_token_paste_mistakes(raw, fragment):
    result = FLOW.check({"access_token": A, "refresh_token": raw})
    assert fragment in result.errors["refresh_token"]


def test_claims_are_read_without_a_signature_check():
    assert claims(A)["acct"] == server_mod.ACCOUNT_ID
    assert claims("not-a-token") == {}


@pytest.mark.parametrize("raw", ["The access token", "The acce ss", "paste it again as one"])
def test_message_never_repeats_a_paste_that_is_part_of_it(raw):
    error = FLOW.check({"access_token": raw})
    assert raw.strip() not in error.errors["access_token"]


CLIENT_ENV = {"GETKEY_LIGHTSPEED_R_CLIENT_ID": server_mod.CLIENT_ID,
              "GETKEY_LIGHTSPEED_R_CLIENT_SECRET": server_mod.CLIENT_SECRET}


def test_renewal_hook_needs_the_app_credentials_and_a_refresh_token(server):
    # The reminders renew through Flow.renew without knowing which platform this is.
    assert not FLOW.can_renew({}) and FLOW.can_renew(CLIENT_ENV)
    http = http_for(server)
    assert FLOW.renew(server_mod.good_values(), http, {}) is None
    assert FLOW.renew({"access_token": server_mod.ACCESS}, http, CLIENT_ENV) is None
    assert server.requests == []
    renewal = FLOW.renew(server_mod.good_values(), http, CLIENT_ENV)
    assert set(renewal.values) == {"access_token", "refresh_token"}
    assert renewal.values["refresh_token"] != server_mod.good_values()["refresh_token"]
    assert renewal.expires_at is not None and renewal.expires_at > datetime.now(UTC)


def test_renewal_with_refused_app_credentials_points_at_no_field(server):
    # field None tells the reminders it is the operator's configuration, not the owner's key.
    env = {**CLIENT_ENV, "GETKEY_LIGHTSPEED_R_CLIENT_SECRET": "nope"}
    result = FLOW.renew(server_mod.good_values(), http_for(server), env)
    assert isinstance(result, VerifyResult) and result.field is None
    assert result.failure is Failure.BAD_CREDENTIAL


# -- any token the API accepts (issue 10) ---------------------------------------------------
def test_opaque_token_is_accepted_and_the_live_call_decides(server):
    result = run(server, access_token=server_mod.OPAQUE, refresh_token="")
    assert result.ok, result.detail
    assert result.store_name == "Green Leaf Garden Supply"
    # Nothing in the token tells its expiry or scopes: none is invented.
    assert result.expires_at is None and result.granted == ()
    assert not any("(" in w and "UTC" in w for w in result.warnings)
    # Storage still files it under the account the API named.
    assert FLOW.identity_of(server_mod.good_values(), result) == f"account {server_mod.ACCOUNT_ID}"
    refused = run(server, access_token="x" + server_mod.OPAQUE, refresh_token="")
    assert refused.failure is Failure.BAD_CREDENTIAL and "expired at" not in refused.detail


def test_key_file_from_the_source_guide_is_read():
    # lightspeed_api_key.txt holds "the API Key": as a labelled line or on its own.
    for text in (f"API Key: {server_mod.OPAQUE}\n", server_mod.OPAQUE + "\n"):
        result = FLOW.check({"access_token": text, "refresh_token": ""})
        assert result.ok and result.values["access_token"] == server_mod.OPAQUE


_B64TOKEN = st.from_regex(r"[A-Za-z0-9._~+/-]{1,200}=*", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(opaque=_B64TOKEN, scope=st.sampled_from(["employee:all", "employee:register",
                                                 "employee:inventory employee:reports"]))
def test_every_documented_shape_passes_check(opaque, scope):
    """A JWT as Lightspeed issues them, and any RFC 6750 bearer token (the source guide does not
    say what the key file holds), pass check() unless they are plainly something else."""
    jwt = server_mod.make_token(scope)
    assert FLOW.check({"access_token": jwt, "refresh_token": ""}).values["access_token"] == jwt
    assume(not opaque.startswith(("def50", "eyJ")))
    result = FLOW.check({"access_token": opaque, "refresh_token": ""})
    assert result.ok, result.errors
    assert result.values["access_token"] == opaque


def test_expiry_is_read_only_from_a_token_that_carries_it():
    assert expires_at(server_mod.ACCESS) is not None
    assert expires_at(server_mod.OPAQUE) is None


# -- renewal only for tokens issued to the operator's client (issue 10) --------------------
def test_renewal_consent_warns_that_the_other_copy_stops_working():
    assert FLOW.renewal_consent and "other tool" in FLOW.renewal_consent


@pytest.mark.parametrize("access", [server_mod.OTHER_APP, server_mod.OPAQUE],
                         ids=["other-app", "opaque"])
def test_token_of_another_app_is_not_renewed_and_nobody_is_blamed(server, access):
    values = {"access_token": access, "refresh_token": server_mod.REFRESH}
    outcome = FLOW.renew(values, http_for(server), CLIENT_ENV)
    assert isinstance(outcome, RenewalNotPossible)
    assert "cannot renew" in outcome.reason and "GETKEY_" not in outcome.reason
    assert server.requests == []  # no refresh attempted: the old refresh token still works
    assert server_mod.REFRESH in server.refresh_tokens


def test_missing_permission_names_the_account(server):
    result = run(server, access_token=server_mod.FORBIDDEN)
    assert result.failure is Failure.MISSING_PERMISSION
    assert result.account == f"account {server_mod.ACCOUNT_ID}"


# -- expiry wording quotes the token, never "about an hour" (issue 18, item 8) --------------
def test_a_half_hour_token_is_quoted_with_its_own_expiry(server):
    exp = int(datetime.now(UTC).timestamp()) + 1800  # the refresh example's expires_in
    token = server_mod.make_token(exp=exp)
    server.valid.add(token)
    result = run(server, access_token=token)
    assert result.ok
    stated = datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert stated in result.detail
    assert result.expires_at == datetime.fromtimestamp(exp, UTC)


def test_no_text_promises_an_hour(server):
    texts = [FLOW.summary, *(s.title + " " + s.detail for s in FLOW.steps),
             *(t.symptom + " " + t.fix for t in FLOW.troubleshooting),
             *(f.hint for f in FLOW.fields)]
    expired = run(server, access_token=server_mod.EXPIRED)
    texts.append(expired.detail)
    for text in texts:
        assert "about an hour" not in text and "one-hour" not in text, text
        assert "first hour" not in text, text
