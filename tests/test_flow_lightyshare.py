from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.base import Failure
from flows.lightyshare import FLOW
from tests.builders import flow_runner, platform_fixtures
from tests.conftest import http_for
from tests.platforms import lightyshare as server_mod
from tests.platforms.server import Response

shared_server, server = platform_fixtures(
    server_mod.LightyshareServer, missing_product=None, route_missing=False
)
run = flow_runner(FLOW, server_mod.good_values)


def test_live_token_verifies_and_says_live(server):
    result = run(server)
    assert result.ok and result.environment == "live"
    assert result.account and result.account.startswith(server_mod.ACCOUNT)
    assert "live token" in result.account
    assert server_mod.LIVE not in result.account and server_mod.LIVE[-4:] in result.account
    assert server_mod.API_VERSION in result.detail
    assert not any("test token" in w for w in result.warnings)
    req = server.requests[-1]
    assert req.method == "GET" and req.host == "lightyshare.com"
    assert req.headers["authorization"] == "Bearer " + server_mod.LIVE
    # Never the legacy ?token= form: it ends up in access logs.
    assert "token" not in req.query


def test_test_token_is_told_apart(server):
    result = run(server, token=server_mod.TEST)
    assert result.ok and result.environment == "test"
    assert any("test token" in w for w in result.warnings)


def test_identity_is_the_named_account_and_environment_not_the_secret():
    acct = server_mod.ACCOUNT
    assert FLOW.identity({"token": server_mod.LIVE, "account": acct}) == f"live:{acct}"
    assert FLOW.identity({"token": server_mod.TEST, "account": acct}) == f"test:{acct}"
    # A rotated live token of the same account replaces the stored one: same identity.
    assert FLOW.identity({"token": "lsh_live_sk_rotated123456789",
                          "account": " PAT@plantshop.example "}) == f"live:{acct}"
    assert FLOW.identity({}) == "lightyshare"


def test_an_agency_keeps_one_live_token_per_client_account(server):
    # Seed 002: separate tokens per application; each belongs to one user account.
    first = FLOW.check({"token": server_mod.LIVE, "account": "client-one@agency.example"})
    second = FLOW.check({"token": server_mod.TEST[:4] + "live" + server_mod.TEST[8:],
                         "account": "client-two@agency.example"})
    assert first.ok and second.ok
    assert FLOW.identity(first.values) != FLOW.identity(second.values)
    result = FLOW.run_verify(first.values, http_for(server))
    assert result.ok and FLOW.identity_of(first.values, result) == FLOW.identity(first.values)
    assert server_mod.LIVE not in FLOW.identity(first.values)


def test_account_field_refuses_a_pasted_token():
    result = FLOW.check({"token": server_mod.LIVE, "account": server_mod.LIVE})
    assert "token" in result.errors["account"] and server_mod.LIVE not in result.errors["account"]
    assert "account" in FLOW.check({"token": server_mod.LIVE}).errors


def test_router_404_without_the_api_headers_is_not_token_accepted(server):
    # A bad token and a route the API does not serve: the 404 says nothing about the token.
    server.route_missing = True
    result = run(server, token=server_mod.REVOKED)
    assert not result.ok and result.failure is Failure.UNEXPECTED
    assert "Could not confirm" in result.detail
    assert run(server).failure is Failure.UNEXPECTED


def test_api_404_with_its_version_header_means_the_token_was_accepted(server):
    result = run(server)
    assert result.ok
    assert server.requests[-1].path.endswith("/product/0")


@pytest.mark.parametrize("bad", [server_mod.REVOKED, server_mod.OLD_SHAPE_REJECT])
def test_rejected_token(server, bad):
    result = run(server, token=bad)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "token"
    assert "live token" in result.detail and bad not in result.detail
    assert len(server.requests) == 1  # never retried


def test_documented_403_still_means_the_token_was_accepted(server):
    server.missing_product = Response(403, {"error": "Access denied to this resource"})
    result = run(server)
    assert result.ok and result.environment == "live"
    # Lightyshare cannot tell us permissions: the person is told so instead.
    assert any("account that created it" in w for w in result.warnings)


def test_web_page_instead_of_api_answer_is_not_success(server):
    server.missing_product = Response(404, b"<html>Moved</html>", {"Content-Type": "text/html"})
    result = run(server)
    assert result.failure is Failure.UNEXPECTED and "Lightyshare" in result.detail


def test_odd_status_is_unexpected(server):
    server.missing_product = Response(400, {"error": "Bad request"})
    result = run(server)
    assert result.failure is Failure.UNEXPECTED and "400" in result.detail


LIVE = server_mod.LIVE


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("  " + LIVE + "\n", None),
        ('"' + LIVE + '"', None),
        ("Bearer " + LIVE, None),
        ("Authorization: Bearer " + LIVE, None),
        ('export LIGHTYSHARE_API_KEY="' + LIVE + '"', None),
        ("https://lightyshare.com/api/token-secured/product/123?token=" + LIVE, None),
        ("https://lightyshare.com/dashboard/shop/api", "web address"),
        (LIVE[:20] + " " + LIVE[20:], "spaces"),
        ("lsh_live_abc123xyz...", "shortened"),
        ("lsh_live_", "start of the token"),
        ("lsh_prod_sk_1234567890abcdef", "live_ or test_"),
        ("LSH_LIVE_SK_1234567890ABCDEF", "lower case"),
        ("secret_EZWiLeBXWsGg82XH3SfSFfdw418QNBBM", "Ecwid"),
        ("shpat_0123456789abcdef0123456789abcdef", "Shopify"),
        ("IST.eyJraWQiOiJQb3pIX2FDMiJ9.eyJ9.c2ln", "Wix"),
        ("sk_1234567890abcdef", "starts with lsh_live_"),
        # An unclosed "[" made urlsplit raise a ValueError instead of a field message.
        ("https://[lightyshare.com/api?token=" + LIVE, "web address"),
    ],
)
def test_token_paste_mistakes(raw, fragment):
    result = FLOW.check({"token": raw, "account": server_mod.ACCOUNT})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["token"] == LIVE
    else:
        assert not result.ok
        assert fragment in result.errors["token"], result.errors
        assert raw.strip() not in result.errors["token"]


def test_empty_token_is_required():
    assert "required" in FLOW.check({"token": "  "}).errors["token"]


# -- every token the source's format allows passes check() (issue 10) -----------------------
@settings(max_examples=300, deadline=None)
@given(env=st.sampled_from(["live", "test"]),
       unique=st.from_regex(r"[!-~]{1,120}", fullmatch=True))
def test_every_documented_shape_passes_check(env, unique):
    """The source documents lsh_<environment>_<unique string> and nothing narrower."""
    # A display elided with "..." is not a token (the docs' own example is shown that way).
    assume(not unique.endswith("..."))
    value = f"lsh_{env}_{unique}"
    result = FLOW.check({"token": value, "account": server_mod.ACCOUNT})
    assert result.ok, result.errors
    assert result.values["token"] == value
    assert FLOW.identity(result.values) == f"{env}:{server_mod.ACCOUNT}"


@pytest.mark.parametrize("value", ["lsh_live_sk-1234-5678-90ab", "lsh_test_abc",
                                   "lsh_live_sk_1234567890abcdef", "lsh_live_a.b~c+d/e="])
def test_documented_and_dashed_tokens_verify_shape(value):
    assert FLOW.check({"token": value, "account": server_mod.ACCOUNT}).values["token"] == value
