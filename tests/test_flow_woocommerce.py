from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wording import TERMINAL, failure_words, problem_text
from flows import catalog
from flows.base import Failure, VerifyError
from flows.http import PlatformHttp
from flows.store_url import bound_to
from flows.woocommerce import FLOW
from tests.builders import platform_fixtures
from tests.conftest import check_and_verify, http_for
from tests.platforms import woocommerce as wc

shared_server, server = platform_fixtures(wc.WooCommerceServer)


def run(server, host: str = wc.SHOP_HOST, key: wc.Key = wc.READ_WRITE, **overrides: str):
    return check_and_verify(FLOW, server, {**wc.good_values(host, key), **overrides})


def basic(key: wc.Key) -> str:
    return "Basic " + base64.b64encode(f"{key.key}:{key.secret}".encode()).decode()


def test_aliases_reach_the_flow():
    for name in ("woocommerce", "Woo", "woo commerce", "WooCommerce", "woo-commerce"):
        assert catalog.get(name) is FLOW, name


def test_read_write_key_verifies_with_site_version_and_write_access(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == wc.SITE_NAME
    assert result.store_url == wc.STORE_URL
    assert result.environment == "WooCommerce 9.4.2, WordPress 6.7.1"
    assert result.account == wc.SHOP_HOST
    assert result.granted == ("read", "write") and result.warnings == ()
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/wp-json/wc/v3/system_status"),
        ("POST", "/wp-json/wc/v3/system_status"),  # the write probe: no such route
        ("GET", "/wp-json/"),  # the site title, asked without the key
    ]
    assert all(r.host == wc.SHOP_HOST for r in server.requests)
    assert [r.headers.get("authorization") for r in server.requests] == [
        basic(wc.READ_WRITE), basic(wc.READ_WRITE), None]
    # The key never travels in an address.
    assert all(not r.query for r in server.requests)


def test_read_only_key_is_reported_from_the_documented_401(server):
    result = run(server, key=wc.READ_ONLY)
    assert result.ok, result.detail
    assert result.granted == ("read",)
    assert any("Read only" in w and "Read/Write" in w for w in result.warnings)


def test_write_only_key_cannot_read(server):
    result = run(server, key=wc.WRITE_ONLY)
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "consumer_key"
    assert result.missing == ("read",) and result.granted == ("write",)
    assert result.account == wc.SHOP_HOST
    assert len(server.requests) == 1


def test_user_without_store_rights_is_explained(server):
    result = run(server, key=wc.CUSTOMER)
    assert result.failure is Failure.MISSING_PERMISSION
    assert "Shop manager" in result.detail and "Administrator" in result.detail


def test_key_of_a_deleted_user_is_explained(server):
    result = run(server, key=wc.ORPHAN)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "consumer_key"
    assert "user it belonged to was deleted" in result.detail
    assert len(server.requests) == 1


def test_unknown_key_and_wrong_secret(server):
    unknown = run(server, consumer_key="ck_" + "0" * 40)
    assert unknown.failure is Failure.BAD_CREDENTIAL and unknown.field == "consumer_key"
    assert "Authorization header" in unknown.detail
    wrong = run(server, consumer_secret="cs_" + "0" * 40)
    assert wrong.failure is Failure.BAD_CREDENTIAL and wrong.field == "consumer_secret"
    assert "cs_" + "0" * 40 not in wrong.detail and wc.READ_WRITE.key not in wrong.detail
    assert len(server.requests) == 2  # one each: a refused key is not sent again


def test_wordpress_in_a_folder(server):
    result = run(server, store_url=f"https://{wc.FOLDER_HOST}/shop/wp-admin/admin.php?page=wc")
    assert result.ok, result.detail
    assert server.requests[0].path == "/shop/wp-json/wc/v3/system_status"
    assert result.store_url == f"https://{wc.FOLDER_HOST}/shop"


def test_plain_permalinks_detected_and_rest_route_used(server):
    result = run(server, host=wc.PLAIN_HOST)
    assert result.ok, result.detail
    assert any("Plain" in w and "rest_route" in w for w in result.warnings)
    assert result.granted == ("read", "write")
    first, probe = server.requests[:2]
    assert first.path == "/wp-json/wc/v3/system_status"
    assert probe.path == "/" and probe.query == {"rest_route": ["/wc/v3/system_status"]}


def test_plain_permalinks_on_older_woocommerce_explains_the_setting(server):
    result = run(server, host=wc.OLD_PLAIN_HOST)
    assert result.failure is Failure.NO_API_ACCESS and result.field == "store_url"
    said = problem_text(FLOW, result)
    assert "Settings › Permalinks" in said and "it was not tried" in said
    assert len(server.requests) == 2


def test_wordpress_without_woocommerce(server):
    result = run(server, host=wc.BLOG_HOST)
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "store_url"
    assert "WooCommerce is not active" in result.detail


def test_no_wordpress_at_the_address(server):
    result = run(server, host="nothing-here.example.com")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "store_url"


def test_api_url_override_replaces_scheme_and_host_keeping_path(server):
    # The stand-in listens on http://127.0.0.1:<port>; the typed store stays in Host.
    result = run(server, store_url=f"{wc.STORE_URL}/")
    assert result.ok
    assert server.url.startswith("http://127.0.0.1")
    assert server.requests[0].host == wc.SHOP_HOST


def test_credentials_go_to_the_typed_host_only():
    http = PlatformHttp(environ={})
    where = bound_to(FLOW, wc.STORE_URL)
    for url in ("https://evil.example/wp-json/", "https://api.shop.example.com/wp-json/",
                "http://shop.example.com/wp-json/"):
        with pytest.raises(VerifyError):
            http.request(where, "GET", url, auth=(wc.READ_WRITE.key, wc.READ_WRITE.secret))
    with pytest.raises(VerifyError):  # the flow alone reaches no host at all
        http.request(FLOW, "GET", f"{wc.STORE_URL}/wp-json/")


# -- format checks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expect"),
    [
        ("shop.example.com", wc.STORE_URL),
        ("https://shop.example.com/", wc.STORE_URL),
        ("https://Shop.Example.com/wp-admin/admin.php?page=wc-settings&tab=advanced",
         wc.STORE_URL),
        ("https://shop.example.com/wp-json/wc/v3/", wc.STORE_URL),
        ("https://example.org/shop/wp-login.php", "https://example.org/shop"),
        ("http://shop.example.com", "only sends WooCommerce keys over HTTPS"),
        ("https://192.168.1.10", "not an IP address"),
        ("https://localhost/wp-admin", "public address"),
        (f"https://shop.example.com/?consumer_key={wc.READ_WRITE.key}", "carries a key"),
    ],
)
def test_store_url_forms(raw, expect):
    result = FLOW.check({**wc.good_values(), "store_url": raw})
    if expect.startswith("https://"):
        assert result.ok, result.errors
        assert result.values["store_url"] == expect
    else:
        assert expect in result.errors["store_url"]


def test_http_store_is_never_contacted(server):
    checked = FLOW.check({**wc.good_values(), "store_url": "http://shop.example.com"})
    assert not checked.ok
    assert server.requests == []


@pytest.mark.parametrize(
    ("key", "raw", "fragment"),
    [
        ("consumer_key", wc.READ_WRITE.secret, "This is the consumer secret"),
        ("consumer_secret", wc.READ_WRITE.key, "This is the consumer key"),
        ("consumer_key", "ck_" + "a" * 39, "40 characters"),
        ("consumer_key", "ck_" + "A" * 40, "40 characters"),
        ("consumer_secret", f"https://shop.example.com/?consumer_secret={wc.READ_WRITE.secret}",
         "web address"),
    ],
)
def test_key_paste_mistakes(key, raw, fragment):
    result = FLOW.check({**wc.good_values(), key: raw})
    assert fragment in result.errors[key]
    assert raw not in result.errors[key]


@pytest.mark.parametrize("raw", [f"Consumer key: {wc.READ_WRITE.key}",
                                 f"  '{wc.READ_WRITE.key}'\n"])
def test_labelled_or_quoted_key_is_cleaned(raw):
    result = FLOW.check({**wc.good_values(), "consumer_key": raw})
    assert result.ok and result.values["consumer_key"] == wc.READ_WRITE.key


_HEX = "0123456789abcdef"


@settings(max_examples=200, deadline=None)
@given(key=st.text(alphabet=_HEX, min_size=40, max_size=40),
       secret=st.text(alphabet=_HEX, min_size=40, max_size=40),
       folder=st.sampled_from(["", "/shop", "/wordpress", "/store/fr"]),
       host=st.from_regex(r"(?:[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?\.){1,3}[a-z]{2,6}",
                          fullmatch=True),
       form=st.sampled_from(["https://{h}{f}", "{h}{f}", "https://{h}{f}/",
                             "https://{h}{f}/wp-admin/", "https://{h}:8443{f}"]))
def test_every_documented_shape_passes_check(key, secret, folder, host, form):
    """ck_/cs_ + 40 hexadecimal characters (sha1), and the store's https address in the forms
    people paste: bare host, with a folder, with a port, an admin page."""
    result = FLOW.check({"store_url": form.format(h=host, f=folder),
                         "consumer_key": "ck_" + key, "consumer_secret": "cs_" + secret})
    assert result.ok, result.errors
    assert result.values["consumer_key"] == "ck_" + key
    assert result.values["store_url"].endswith(host + (":8443" if ":8443" in form else "")
                                               + folder)


# -- purposes ---------------------------------------------------------------------------
def test_read_only_key_is_refused_for_writing_and_accepted_for_reading(server):
    from flows.base import Purpose

    values = FLOW.check(wc.good_values(key=wc.READ_ONLY)).values
    http = http_for(server)
    assert FLOW.run_verify(values, http, purpose=Purpose.READ).ok
    write = FLOW.run_verify(values, http, purpose=Purpose.WRITE)
    assert write.failure is Failure.MISSING_PERMISSION and write.field == "consumer_key"
    assert "write" in write.missing and "Read/Write" in write.detail
    rw = FLOW.check(wc.good_values()).values
    assert FLOW.run_verify(rw, http, purpose=Purpose.WRITE).ok


# -- a self-hosted store's own wording (not a hosted platform's "plan" or "other account") -----
@pytest.mark.parametrize(("host", "headline"), [
    (wc.OLD_PLAIN_HOST, "With Plain permalinks, this store's WooCommerce API is out of reach"),
    (wc.BLOG_HOST, "No WooCommerce API answered at this address"),
    ("nothing-here.example.com", "No WooCommerce API answered at this address"),
])
def test_a_store_whose_api_is_off_or_elsewhere_is_told_so(server, host, headline):
    result = run(server, host=host)
    said = problem_text(FLOW, result)
    assert said.splitlines()[0].endswith(f"*{headline}*")
    assert "it was not tried" in said and "press *Try again*" in said
    for misfit in ("plan", "WooCommerce support", "not for the store or account you named"):
        assert misfit not in said
    head, step = failure_words(FLOW, result, TERMINAL)
    assert head == headline and "run the same command again" in step
