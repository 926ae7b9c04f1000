from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.base import Failure
from flows.lightyshare import FLOW
from tests.conftest import check_and_verify
from tests.platforms import lightyshare as server_mod
from tests.platforms.server import Response


@pytest.fixture(scope="module")
def shared_server():
    # One server for the module: stopping one takes half a second (serve_forever's poll).
    with server_mod.LightyshareServer() as s:
        yield s


@pytest.fixture
def server(shared_server):
    shared_server.requests.clear()
    shared_server.missing_product = None
    shared_server.fault = None
    return shared_server


def run(server, **overrides: str):
    return check_and_verify(FLOW, server, {**server_mod.good_values(), **overrides})


def test_live_token_verifies_and_says_live(server):
    result = run(server)
    assert result.ok and result.environment == "live"
    assert result.account and result.account.startswith("live token")
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


def test_identity_is_the_environment_not_the_secret():
    assert FLOW.identity({"token": server_mod.LIVE}) == "live"
    assert FLOW.identity({"token": server_mod.TEST}) == "test"
    # A rotated live token replaces the stored live one: same identity.
    assert FLOW.identity({"token": "lsh_live_sk_rotated123456789"}) == "live"
    assert FLOW.identity({}) == "lightyshare"


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
    result = FLOW.check({"token": raw})
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
    result = FLOW.check({"token": value})
    assert result.ok, result.errors
    assert result.values["token"] == value
    assert FLOW.identity(result.values) == env


@pytest.mark.parametrize("value", ["lsh_live_sk-1234-5678-90ab", "lsh_test_abc",
                                   "lsh_live_sk_1234567890abcdef", "lsh_live_a.b~c+d/e="])
def test_documented_and_dashed_tokens_verify_shape(value):
    assert FLOW.check({"token": value}).values["token"] == value
