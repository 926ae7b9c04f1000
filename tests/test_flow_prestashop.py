from __future__ import annotations

import base64
import string

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wording import TERMINAL, failure_words, problem_text
from flows import catalog
from flows.base import Failure, VerifyError
from flows.http import PlatformHttp, Reply
from flows.prestashop import FLOW, _resources
from flows.store_url import bound_to
from tests.builders import platform_fixtures
from tests.conftest import check_and_verify, http_for
from tests.flow_journey import (
    assert_secrets_kept_out,
    journey_bot_fixture,
    refuse_plain_http_then_verify,
)
from tests.platforms import prestashop as ps

shared_server, server = platform_fixtures(
    ps.PrestaShopServer, enabled=True, strips_authorization=False, firewall=False
)


def run(server, key: str = ps.FULL.value, shop_url: str = ps.SHOP_URL):
    return check_and_verify(FLOW, server, {"shop_url": shop_url, "key": key})


def test_aliases_reach_the_flow():
    for name in ("prestashop", "PrestaShop", "presta", "Presta Shop"):
        assert catalog.get(name) is FLOW


def test_success_lists_the_keys_resources_from_one_call(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == ps.SHOP_NAME and result.store_url == ps.SHOP_URL
    assert "products (GET, PUT, POST, DELETE, HEAD)" in result.granted
    assert result.missing == () and result.warnings == ()
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert sent.path == "/api/" and sent.host == ps.SHOP_HOST
    expected = base64.b64encode(f"{ps.FULL.value}:".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    # The key is never in the address, and the XML form (which carries the methods) is read.
    assert sent.query == {}


def test_read_only_key_is_fine_for_reading_and_says_so(server):
    result = run(server, ps.READ_ONLY.value)
    assert result.ok
    assert "orders (GET, HEAD)" in result.granted
    assert any("can only read" in w for w in result.warnings)


def test_missing_resources_are_named_with_the_shop(server):
    result = run(server, ps.NO_ORDERS.value)
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "key"
    assert result.missing == ("orders (GET)", "images (GET)", "order_details (GET)")
    assert "cannot read orders (GET)" in result.detail
    assert result.store_name == ps.SHOP_NAME
    assert any(w.startswith("images is not readable") for w in result.warnings)


def test_key_without_any_permission(server):
    result = run(server, ps.NO_PERMISSIONS.value)
    assert result.failure is Failure.MISSING_PERMISSION and result.account == ps.SHOP_HOST
    assert "no permission at all" in result.detail


@pytest.mark.parametrize("key", [ps.INACTIVE.value, "Z" * 32], ids=["inactive", "unknown"])
def test_unknown_or_inactive_key(server, key):
    result = run(server, key)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "key"
    assert key not in result.detail
    assert len(server.requests) == 1


def test_key_of_another_shop_in_a_multistore(server):
    result = run(server, ps.OTHER_SHOP.value)
    assert result.failure is Failure.MISSING_PERMISSION and "Shop association" in result.detail


def test_stripped_authorization_header_is_explained_and_ws_key_never_used(server):
    server.strips_authorization = True
    result = run(server)
    assert result.failure is Failure.NO_API_ACCESS
    for fix in ("Enable CGI mode for PHP", "CGIPassAuth On",
                'SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1'):
        assert fix in result.detail
    assert len(server.requests) == 1
    assert all("ws_key" not in r.query for r in server.requests)


def test_a_firewall_in_front_of_the_shop_is_not_blamed_on_the_key(server):
    server.firewall = True
    result = run(server)
    assert result.failure is Failure.UNEXPECTED and result.field == "shop_url"
    assert "refused the request (HTTP 403)" in result.detail and "not judged" in result.detail


def test_disabled_webservice_is_reported_before_the_key_is_judged(server):
    server.enabled = False
    for key in (ps.FULL.value, "Z" * 32):
        result = run(server, key)
        assert result.failure is Failure.NO_API_ACCESS
        said = problem_text(FLOW, result)
        assert "Enable PrestaShop's webservice" in said and "it was not tried" in said


def test_a_plain_503_is_still_platform_trouble(server):
    server.fault = "server_error"
    assert run(server).failure is Failure.UNREACHABLE


def test_redirect_names_where_it_points_and_is_not_followed(server):
    server.fault = "redirect"
    result = run(server)
    assert result.failure is Failure.UNEXPECTED and result.field == "shop_url"
    assert "https://attacker.example" in result.detail and len(server.requests) == 1


def test_wrong_folder(server):
    result = run(server, shop_url="https://shop.example.com/boutique")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "shop_url"
    assert server.requests[0].path == "/boutique/api/"


def test_override_replaces_scheme_and_host_whatever_was_typed(server):
    result = run(server, shop_url="https://another-shop.example.org")
    assert result.failure is Failure.WRONG_IDENTIFIER
    assert server.requests[0].host == "another-shop.example.org"
    assert server.requests[0].path == "/api/"


def test_a_key_goes_to_the_typed_host_only():
    http = PlatformHttp()
    view = bound_to(FLOW, ps.SHOP_URL)
    for flow, url in ((view, "https://evil.example/api/"), (view, "http://shop.example.com/api/"),
                      (FLOW, "https://shop.example.com/api/")):
        with pytest.raises(VerifyError, match="Refusing to send"):
            http.request(flow, "GET", url, auth=(ps.FULL.value, ""))


def test_xml_with_a_dtd_is_not_parsed():
    body = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]>'
            b'<prestashop><api shopName="&a;"><products get="true"/></api></prestashop>')
    reply = Reply(200, httpx.Headers(), body, "PrestaShop")
    with pytest.raises(VerifyError, match="without the list of resources"):
        _resources(reply)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shop.example.com", "https://shop.example.com"),
        ("https://shop.example.com/api/", "https://shop.example.com"),
        ("https://example.com/prestashop/api/products", "https://example.com/prestashop"),
        ("https://shop.example.com/admin123abc/index.php?controller=AdminWebservice&token=9f3c",
         "https://shop.example.com"),
        ("https://shop.example.com/index.php?id_product=1&controller=product",
         "https://shop.example.com"),
        ("http://shop.example.com", "only sends PrestaShop keys over HTTPS"),
        (f"https://{ps.FULL.value}@shop.example.com/api/", "before an @"),
        (f"https://shop.example.com/api/?ws_key={ps.FULL.value}", "carries a key"),
    ],
    ids=["bare-host", "api-path", "folder", "back-office", "product-page", "http", "key-at-host",
         "ws_key-in-query"],
)
def test_shop_address_paste(raw, expected):
    result = FLOW.check({"shop_url": raw, "key": ps.FULL.value})
    if expected.startswith("https://"):
        assert result.ok, result.errors
        assert result.values["shop_url"] == expected
    else:
        assert expected in result.errors["shop_url"]
        assert ps.FULL.value not in result.errors["shop_url"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (f" {ps.FULL.value}\n", None),
        (f"Key: {ps.FULL.value}", None),
        (f"ws_key={ps.FULL.value}", None),
        (ps.FULL.value[:31], "exactly 32 characters"),
        (ps.FULL.value + "X", "exactly 32 characters"),
        (ps.FULL.value[:10] + " " + ps.FULL.value[10:], "spaces"),
        (f"https://shop.example.com/api/?ws_key={ps.FULL.value}", "web address"),
    ],
    ids=["padded", "labelled", "ws_key", "short", "long", "space", "in-url"],
)
def test_key_paste_mistakes(raw, fragment):
    result = FLOW.check({"shop_url": ps.SHOP_URL, "key": raw})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["key"] == ps.FULL.value
    else:
        assert fragment in result.errors["key"]
        assert ps.FULL.value not in result.errors["key"]


# -- every documented shape passes check() ----------------------------------------------
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(key=st.one_of(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=32,
                             max_size=32),
                     st.text(alphabet=string.ascii_letters + string.digits + "@?#-_",
                             min_size=32, max_size=32)),
       labels=st.lists(_label, min_size=1, max_size=3), tld=st.sampled_from(["com", "fr", "shop"]),
       folder=st.sampled_from(["", "/prestashop", "/boutique/fr"]))
def test_every_documented_shape_passes_check(key, labels, tld, folder):
    """Generated keys are 32 upper-case letters and digits; the key form also takes lower case
    and @ ? # - _; a shop is an https:// host, perhaps with a folder."""
    url = "https://" + ".".join([*labels, tld]) + folder
    result = FLOW.check({"shop_url": url, "key": key})
    assert result.ok, result.errors
    assert result.values == {"shop_url": url, "key": key}


# -- /getkey presta end to end, through the local Slack and this stand-in -------------------
journey_bot = journey_bot_fixture()


def test_getkey_presta_end_to_end(journey_bot, server):
    bot = journey_bot
    shown = refuse_plain_http_then_verify(
        bot, server, command="presta", guide_says="Add new webservice key", url_field="shop_url",
        form={"key": ps.FULL.value}, good_url=ps.SHOP_URL)
    assert "verified" in shown and ps.SHOP_NAME in shown
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id)
    assert stored.platform == "prestashop" and stored.store_name == ps.SHOP_NAME
    assert_secrets_kept_out(bot, [ps.FULL.value])


def test_read_only_key_is_refused_for_writing_with_the_rows_to_tick(server):
    from flows.base import Purpose

    checked = FLOW.check({"shop_url": ps.SHOP_URL, "key": ps.READ_ONLY.value})
    result = FLOW.run_verify(checked.values, http_for(server),
                             purpose=Purpose.WRITE)
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "key"
    assert {"products: PUT", "products: POST", "orders: POST"} <= set(result.missing)
    assert "Modify (PUT)" in result.detail
    full = FLOW.check({"shop_url": ps.SHOP_URL, "key": ps.FULL.value})
    assert FLOW.run_verify(full.values, http_for(server),
                           purpose=Purpose.WRITE).ok


# -- a self-hosted shop's own wording (not a hosted platform's "plan" or "other account") ------
@pytest.mark.parametrize(("setup", "headline"), [
    ({"enabled": False}, "This shop's webservice (its API) is turned off"),
    ({"strips_authorization": True}, "The shop's web server keeps the key from PrestaShop"),
    ({}, "No PrestaShop API answered at this address"),
])
def test_a_shop_whose_api_is_off_or_elsewhere_is_told_so(server, setup, headline):
    for name, value in setup.items():
        setattr(server, name, value)
    shop = ps.SHOP_URL + ("/wrong-folder" if not setup else "")
    result = run(server, shop_url=shop)
    said = problem_text(FLOW, result)
    assert said.splitlines()[0].endswith(f"*{headline}*")
    assert "it was not tried" in said and "press *Try again*" in said
    for misfit in ("plan", "PrestaShop support", "not for the store or account you named"):
        assert misfit not in said
    head, step = failure_words(FLOW, result, TERMINAL)
    assert head == headline and "run the same command again" in step
