from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.base import Failure, Purpose
from flows.lightspeed_ecom import FLOW
from tests.builders import flow_runner, own_platform_server
from tests.conftest import http_for
from tests.platforms import lightspeed_ecom as server_mod

server = own_platform_server(server_mod.LightspeedEcomServer)
run = flow_runner(FLOW, server_mod.good_values)


def test_success_shows_shop_and_all_areas(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == "www.plantshop.nl"
    assert result.store_url == "https://www.plantshop.nl"
    assert result.account == "4242" and result.environment == "EU cluster"
    assert set(result.granted) == {"Content", "Products", "Customers", "Orders", "Settings",
                                   "Tracking"}
    assert not result.missing and not result.warnings
    first = server.requests[0]
    assert first.host == server_mod.EU_HOST and first.path == "/nl/account.json"
    expected = base64.b64encode(f"{server_mod.KEY}:{server_mod.SECRET}".encode()).decode()
    assert first.headers["authorization"] == "Basic " + expected
    assert [r.path for r in server.requests] == [
        "/nl/account.json", "/nl/account/permissions.json", "/nl/shop.json"]


def test_us_cluster_goes_to_us_host(server):
    result = run(server, api_key=server_mod.US_KEY, cluster="us1", language="us")
    assert result.ok and result.environment == "US cluster"
    assert {r.host for r in server.requests} == {server_mod.US_HOST}


def test_wrong_secret(server):
    result = run(server, api_secret="ffffffffffffffffffffffffffffffff")
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "api_key"
    assert "Settings › Developers" in result.detail
    # One call per cluster; the rejected host is never asked twice.
    assert [r.host for r in server.requests] == [server_mod.EU_HOST, server_mod.US_HOST]


def test_wrong_cluster_is_named(server):
    result = run(server, api_key=server_mod.US_KEY, cluster="eu1", language="us")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "cluster"
    assert "US cluster" in result.detail


def test_wrong_cluster_found_even_with_a_language_the_other_shop_lacks(server):
    result = run(server, api_key=server_mod.US_KEY, cluster="eu1", language="nl")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "cluster"


def test_inactive_language(server):
    result = run(server, language="de")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "language"
    assert "'de'" in result.detail
    assert len(server.requests) == 1


def test_key_without_read_on_every_area_is_refused_naming_each(server):
    # Seed 000: "set all permissions to Read". Partial Read is a missing permission.
    result = run(server, api_key=server_mod.PARTIAL_KEY)
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "api_key"
    assert set(result.missing) == {"Customers", "Orders", "Settings", "Tracking"}
    assert set(result.granted) == {"Content", "Products"}
    for area in ("Customers", "Orders", "Settings", "Tracking"):
        assert area in result.detail
    assert "Read" in result.detail and result.account == "4242"


def test_areas_left_out_of_the_permission_list_count_as_missing(server):
    result = run(server, api_key=server_mod.UNLISTED_KEY)
    assert result.failure is Failure.MISSING_PERMISSION
    assert set(result.missing) == {"Customers", "Settings", "Tracking"}


def test_key_that_reads_nothing_fails(server):
    result = run(server, api_key=server_mod.NOTHING_KEY)
    assert result.failure is Failure.MISSING_PERMISSION
    assert len(result.missing) == 6


def test_rate_limit_says_when(server):
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED and result.retry_after == 42
    assert "42 seconds" in result.detail


@pytest.mark.parametrize(
    ("remaining", "reset", "expected"),
    [
        ("0/2700/11700", "263/2063/23663", 263),  # the 5-minute window is spent
        ("120/0/11000", "263/2063/23663", 2063),  # the hourly window is spent
    ],
)
def test_rate_limit_without_retry_after_reads_the_window_that_applies(
    server, remaining, reset, expected
):
    server.limit_headers = {"X-RateLimit-Limit": "300/3000/12000",
                            "X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": reset}
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED and result.retry_after == expected
    assert f"{expected} seconds" in result.detail


def test_rate_limit_reset_given_as_a_unix_time_is_not_read_as_seconds(server):
    import time

    at = int(time.time()) + 90
    server.limit_headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(at)}
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED
    assert result.retry_after is not None and 0 < result.retry_after <= 90


def test_error_inside_a_200_body_is_not_success(server):
    class Odd(server_mod.LightspeedEcomServer):
        def handle(self, req):
            return server_mod.Response(200, {"error": {"code": 401, "message": "Access denied."}})

    with Odd() as odd:
        result = FLOW.run_verify(FLOW.check(server_mod.good_values()).values, http_for(odd))
    assert result.failure is Failure.BAD_CREDENTIAL


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("  " + server_mod.KEY + "\n", None),
        ('"' + server_mod.KEY + '"', None),
        (server_mod.KEY[:16] + " " + server_mod.KEY[16:], "spaces"),
        (f"{server_mod.KEY}:{server_mod.SECRET}", "colon"),
        (f"https://{server_mod.KEY}:{server_mod.SECRET}@api.webshopapp.com/nl/", "web address"),
        ("abc123", "letters and digits"),
        (server_mod.KEY + "!", "letters and digits"),
    ],
)
def test_key_paste_mistakes(raw, fragment):
    result = FLOW.check({**server_mod.good_values(), "api_key": raw})
    if fragment is None:
        assert result.ok and result.values["api_key"] == server_mod.KEY
    else:
        assert fragment in result.errors["api_key"]
        assert server_mod.KEY not in result.errors["api_key"]


def test_secret_pasted_twice():
    result = FLOW.check({**server_mod.good_values(), "api_secret": server_mod.KEY})
    assert "same as the API key" in result.errors["api_secret"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("nl", "nl"),
        ("EN", "en"),
        (" 'de' ", "de"),
        ("/fr/", "fr"),
        ("https://www.plantshop.nl/en/", "en"),
        ("English", None),
        ("en-GB", "en-gb"),
        ("pt_BR", "pt-br"),
        ("https://www.plantshop.nl/pt-br/", "pt-br"),
        ("https://www.plantshop.nl/", None),
        ("n", None),
        # An unclosed "[" made urlsplit raise a ValueError instead of a field message.
        ("https://[plantshop.nl/en/", None),
    ],
)
def test_language_paste_mistakes(raw, expected):
    result = FLOW.check({**server_mod.good_values(), "language": raw})
    if expected:
        assert result.values["language"] == expected
    else:
        assert "language" in result.errors


def test_cluster_must_be_a_listed_choice():
    assert FLOW.check({**server_mod.good_values(), "cluster": "live"}).errors["cluster"]
    assert FLOW.check({**server_mod.good_values(), "cluster": "us1"}).ok


def test_identity_keeps_shops_apart_without_showing_the_key():
    one = FLOW.identity(server_mod.good_values())
    two = FLOW.identity({**server_mod.good_values(), "api_key": server_mod.PARTIAL_KEY})
    assert one != two and one.startswith("eu1:nl:key-")
    assert server_mod.KEY not in one and server_mod.SECRET not in one


# -- regional languages (issue 10) ----------------------------------------------------------
def test_regional_language_is_sent_as_is_and_the_api_decides(server):
    ok = run(server, language="en-GB")
    assert ok.ok, ok.detail
    assert server.requests[0].path.startswith("/en-gb/")
    refused = run(server, language="pt-br")  # not switched on in this shop
    assert refused.failure is Failure.WRONG_IDENTIFIER and refused.field == "language"


@settings(max_examples=200, deadline=None)
@given(language=st.from_regex(r"[a-z]{2}(-[a-z]{2})?", fullmatch=True),
       key=st.from_regex(r"[A-Za-z0-9]{16,64}", fullmatch=True),
       secret=st.from_regex(r"[A-Za-z0-9]{16,64}", fullmatch=True),
       cluster=st.sampled_from(["eu1", "us1"]))
def test_every_documented_shape_passes_check(language, key, secret, cluster):
    """Sources: cluster eu1/us1 and a language code of the shop (two letters in every example;
    regional codes accepted too). No source documents the key or secret format, so any long
    run of letters and digits must pass and Lightspeed decides."""
    assume(key != secret)
    values = {"api_key": key, "api_secret": secret, "cluster": cluster, "language": language}
    result = FLOW.check(values)
    assert result.ok, result.errors
    assert result.values["language"] == language


def _for(server, purpose, key):
    values = FLOW.check({**server_mod.good_values(), "api_key": key}).values
    return FLOW.run_verify(values, http_for(server), purpose=purpose)


def test_read_only_key_is_refused_for_writing_naming_each_area(server):
    result = _for(server, Purpose.WRITE, server_mod.KEY)
    assert result.failure is Failure.MISSING_PERMISSION
    for area in ("Content", "Products", "Customers", "Orders", "Settings", "Tracking"):
        assert f"{area}: Write" in result.missing and f"{area}: Write" in result.detail
    assert _for(server, Purpose.READ, server_mod.KEY).ok


def test_read_write_key_is_accepted_for_writing(server):
    result = _for(server, Purpose.WRITE, server_mod.WRITE_KEY)
    assert result.ok, result.detail
