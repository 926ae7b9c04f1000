from __future__ import annotations

import string

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wording import problem_text
from flows import catalog, oauth1
from flows.base import Failure, VerifyError
from flows.http import PlatformHttp, Reply
from flows.magento import FLOW
from flows.store_url import bound_to
from tests.builders import platform_fixtures
from tests.conftest import check_and_verify, http_for
from tests.flow_journey import (
    assert_secrets_kept_out,
    journey_bot_fixture,
    refuse_plain_http_then_verify,
)
from tests.platforms import magento as mg

ALL_LABELS = ("Stores › Settings › All Stores", "Catalog › Inventory › Products",
              "Catalog › Inventory › Categories", "Customers",
              "Sales › Operations › Orders")


shared_server, server = platform_fixtures(
    mg.MagentoServer, bearer_allowed=False, password_protected=False, denied_status=401
)


def run(server, values):
    return check_and_verify(FLOW, server, values)


def _secrets(values):
    return [values[k] for k in ("consumer_key", "consumer_secret", "access_token",
                                "access_token_secret") if values.get(k)]


def test_aliases_reach_the_flow():
    for name in ("magento", "Adobe Commerce", "magento 2", "Magento2", "magento-2"):
        assert catalog.get(name) is FLOW


def test_success_reads_store_configuration_and_every_resource(server):
    result = run(server, mg.FULL.values())
    assert result.ok, result.detail
    assert result.store_name == "shop.example.com"
    assert result.store_url == "https://shop.example.com"
    assert result.environment == "locale en_US, currency USD"
    assert result.account == "store view default"
    assert result.granted == ALL_LABELS and result.missing == ()
    first = server.requests[0]
    assert first.path == "/rest/V1/store/storeConfigs"
    assert first.host == "shop.example.com"
    fields = oauth1.parse_authorization_header(first.headers["authorization"])
    assert fields["oauth_signature_method"] == "HMAC-SHA256"
    assert fields["oauth_consumer_key"] == mg.FULL.consumer_key
    assert fields["oauth_token"] == mg.FULL.token
    for secret in (mg.FULL.consumer_secret, mg.FULL.token_secret):
        assert all(secret not in str(r.headers) for r in server.requests)
    # One call per resource, the store configuration doubling as the Stores probe; every
    # request signed afresh.
    assert len(server.requests) == 5
    nonces = {oauth1.parse_authorization_header(r.headers["authorization"])["oauth_nonce"]
              for r in server.requests}
    assert len(nonces) == 5


def test_the_stand_in_really_checks_the_signature(server):
    """Signed over the URL really requested, a call passes; signed over the typed address (which
    the request did not reach) or with another secret, the stand-in refuses it as Magento does."""
    creds = oauth1.Credentials(mg.FULL.consumer_key, mg.FULL.consumer_secret, mg.FULL.token,
                               mg.FULL.token_secret)
    path = "/rest/V1/products?searchCriteria%5BpageSize%5D=1"
    wrong_secret = oauth1.Credentials(creds.consumer_key, "x" * 32, creds.token,
                                      creds.token_secret)
    for signed_url, creds_used, status in ((server.url + path, creds, 200),
                                           (mg.STORE_URL + path, creds, 401),
                                           (server.url + path, wrong_secret, 401)):
        header = oauth1.authorization_header("GET", signed_url, creds_used)
        reply = httpx.get(server.url + path, headers={"Authorization": header,
                                                      "Host": mg.STORE_HOST})
        assert reply.status_code == status, signed_url
        if status == 401:
            assert reply.json()["message"] == "The signature is invalid. Verify and try again."


def test_missing_catalog_resources_are_named_with_the_store(server):
    result = run(server, mg.NO_CATALOG.values())
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "access_token"
    assert result.missing == ("Catalog › Inventory › Products", "Catalog › Inventory › Categories")
    assert "Customers" in result.granted
    assert result.store_name == "shop.example.com" and result.environment
    assert "Reauthorize" in result.detail


def test_store_configuration_refused_but_data_readable_is_a_missing_resource(server):
    """Magento answers a missing resource and wrong values with the same 401: one readable
    resource proves the values work."""
    result = run(server, mg.NO_STORES.values())
    assert result.failure is Failure.MISSING_PERMISSION
    assert result.missing == ("Stores › Settings › All Stores",)
    assert "Catalog › Inventory › Products" in result.granted
    assert result.store_name == "shop.example.com"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_resource_reads_the_same_as_401_or_403(server, status):
    server.denied_status = status
    for integration in (mg.NO_CATALOG, mg.NO_STORES):
        result = run(server, integration.values())
        assert result.failure is Failure.MISSING_PERMISSION, status
        assert len(result.missing) == 5 - len(result.granted)


def test_rate_limit_without_retry_after(server):
    server.fault = "rate_limit"
    result = run(server, mg.FULL.values())
    assert result.failure is Failure.RATE_LIMITED and result.retry_after is None
    assert "Wait a minute" in result.detail


def test_positional_parameters_fill_the_message():
    from flows.magento import _message
    body = b'{"message": "Invalid product data: %1", "parameters": ["no sku"]}'
    assert _message(Reply(400, httpx.Headers(), body, "Magento")) == "Invalid product data: no sku"


def test_missing_customers_and_orders_are_warnings(server):
    result = run(server, mg.NO_SALES.values())
    assert result.ok
    assert result.missing == ("Customers", "Sales › Operations › Orders")
    assert any(w.startswith("Customers is not granted") for w in result.warnings)


def test_integration_with_nothing_ticked_is_refused_everywhere(server):
    result = run(server, mg.NOTHING_TICKED.values())
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "consumer_key"
    assert "no resource is ticked" in result.detail and "Activate" in result.detail


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({**mg.FULL.values(), "consumer_secret": mg.OTHER.consumer_secret}, "consumer_secret",
         "signature"),
        ({**mg.FULL.values(), "access_token_secret": mg.OTHER.token_secret}, "consumer_secret",
         "access token secret is wrong"),
        ({**mg.FULL.values(), "access_token": mg.OTHER.token}, "access_token",
         "different integration"),
        ({**mg.FULL.values(), "consumer_key": "0" * 32}, "consumer_key", "No integration"),
        ({**mg.FULL.values(), "access_token": "0" * 32}, "access_token", "no such access token"),
        (mg.REVOKED.values(), "access_token", "revoked"),
    ],
)
def test_magentos_own_reason_points_at_the_field_after_one_call(server, values, field, fragment):
    result = run(server, values)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == field
    assert fragment in result.detail
    assert len(server.requests) == 1  # a refused value is not sent again
    assert not any(s in result.detail for s in _secrets(values))


def test_access_token_alone_refused_explains_the_store_option(server):
    values = {"store_url": mg.STORE_URL, "access_token": mg.FULL.token}
    result = run(server, values)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "access_token"
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in result.detail
    assert "all four values" in result.detail
    assert server.requests[0].headers["authorization"] == f"Bearer {mg.FULL.token}"


def test_access_token_alone_works_where_the_store_allows_it(server):
    server.bearer_allowed = True
    result = run(server, {"store_url": mg.STORE_URL, "access_token": mg.FULL.token})
    assert result.ok and result.granted == ALL_LABELS
    assert any("bearer" in w for w in result.warnings)


def test_a_password_in_front_of_the_store_is_not_blamed_on_the_values(server):
    server.password_protected = True
    result = run(server, mg.FULL.values())
    assert result.failure is Failure.UNEXPECTED and result.field == "store_url"
    assert "password of its own" in result.detail and "not judged" in result.detail
    assert len(server.requests) == 1


def test_wrong_folder_is_a_wrong_address(server):
    result = run(server, {**mg.FULL.values(), "store_url": "https://shop.example.com/shop"})
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "store_url"
    assert server.requests[0].path == "/shop/rest/V1/store/storeConfigs"
    assert len(server.requests) == 1
    # A self-hosted store's words, not a hosted platform's "not the account you named".
    said = problem_text(FLOW, result)
    assert said.splitlines()[0].endswith("*No Magento API answered at this address*")
    assert "it was not tried" in said and "not for the store or account you named" not in said


def test_override_replaces_scheme_and_host_whatever_was_typed(server):
    """GETKEY_MAGENTO_API_URL takes every call, keeping the path; the typed host travels only
    in the Host header."""
    result = run(server, {**mg.FULL.values(), "store_url": "https://other-shop.example.net/m2"})
    assert result.failure is Failure.WRONG_IDENTIFIER  # the stand-in knows no such store
    assert server.requests[0].host == "other-shop.example.net"
    assert server.requests[0].path == "/m2/rest/V1/store/storeConfigs"


def test_a_credential_goes_to_the_typed_host_only():
    http = PlatformHttp()
    view = bound_to(FLOW, "https://shop.example.com")
    for flow, url in ((view, "https://evil.example/rest/V1/store/storeConfigs"),
                      (view, "http://shop.example.com/rest/V1/store/storeConfigs"),
                      (FLOW, "https://shop.example.com/rest/V1/store/storeConfigs")):
        with pytest.raises(VerifyError, match="Refusing to send"):
            http.request(flow, "GET", url)


def test_redirect_names_where_it_points_and_is_not_followed(server):
    server.fault = "redirect"
    result = run(server, mg.FULL.values())
    assert result.failure is Failure.UNEXPECTED and result.field == "store_url"
    assert "https://attacker.example" in result.detail and "/steal" not in result.detail


def test_answers_without_configuration_are_unexpected(server):
    server.fault = "malformed"
    result = run(server, mg.FULL.values())
    assert result.failure is Failure.UNEXPECTED and "not valid JSON" in result.detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shop.example.com", "https://shop.example.com"),
        (" https://Shop.Example.COM:443/ ", "https://shop.example.com"),
        ("https://shop.example.com:8443/", "https://shop.example.com:8443"),
        ("https://shop.example.com/admin_k3y/dashboard/index/", "https://shop.example.com"),
        ("https://shop.example.com/rest/V1/products?x=1", "https://shop.example.com"),
        ("https://shop.example.com/index.php/rest/V1", "https://shop.example.com/index.php"),
        ("https://example.com/magento/", "https://example.com/magento"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://shop.example.com", "only sends Magento keys over HTTPS"),
        ("ftp://shop.example.com", "starting with https://"),
        ("https://203.0.113.9/", "not an IP address"),
        ("https://localhost:8080", "public address"),
        ("https://shop.local", "public address"),
        ("https://admin:pw@shop.example.com", "before an @"),
        ("https://shop.example.com/?access_token=abc", "carries a key"),
        ("https://shop..example.com", "cannot exist"),
        ("https://shop.example.com:99999", "not a web address"),
    ],
)
def test_store_address_paste(raw, expected):
    result = FLOW.check({**mg.FULL.values(), "store_url": raw})
    if expected.startswith("https://"):
        assert result.ok, result.errors
        assert result.values["store_url"] == expected
    else:
        assert expected in result.errors["store_url"]


V = mg.FULL.token


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (f"  {V}\n", None),
        (f"Access Token: {V}", None),
        (f"'{V}'", None),
        (f"Access Token Secret: {V}", "access token secret; paste it in its own box"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjF9.c2lnbmF0dXJl", "admin or customer token"),
        (V[:31], "32 letters and digits"),
        (V[:16] + " " + V[16:], "spaces"),
        (f"https://shop.example.com/{V}", "web address"),
        (f"Consumer Key\n{mg.FULL.consumer_key}\nAccess Token\n{V}", "several values"),
    ],
    # Named by the mistake, never by the (fake but secret-looking) value.
    ids=["padded", "labelled", "quoted", "other-label", "jwt", "short", "space", "in-url",
         "block"],
)
def test_value_paste_mistakes(raw, fragment):
    result = FLOW.check({**mg.FULL.values(), "access_token": raw})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["access_token"] == V
    else:
        assert fragment in result.errors["access_token"]
        assert V not in result.errors["access_token"]


def test_three_of_four_values_or_a_repeated_one_is_refused():
    partial = {**mg.FULL.values(), "access_token_secret": ""}
    assert "all four values" in FLOW.check(partial).errors["access_token_secret"]
    repeated = {**mg.FULL.values(), "consumer_secret": mg.FULL.consumer_key}
    assert "same value as the consumer key" in FLOW.check(repeated).errors["consumer_secret"]
    assert FLOW.check({"store_url": mg.STORE_URL, "access_token": V}).ok


# -- every documented shape passes check() ----------------------------------------------
_GENERATED = string.digits + string.ascii_lowercase  # Helper\Oauth::generateRandomString
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(four=st.lists(st.text(alphabet=_GENERATED, min_size=32, max_size=32), min_size=4,
                     max_size=4, unique=True),
       labels=st.lists(_label, min_size=1, max_size=3), tld=st.sampled_from(["com", "shop", "de"]),
       folder=st.sampled_from(["", "/magento", "/index.php", "/shop/index.php"]),
       bearer_only=st.booleans())
def test_every_documented_shape_passes_check(four, labels, tld, folder, bearer_only):
    """Integration values are 32 digits and lower-case letters; a store is an https:// host,
    perhaps with a folder; only the access token may stand alone."""
    url = "https://" + ".".join([*labels, tld]) + folder
    values = dict(zip(("consumer_key", "consumer_secret", "access_token",
                       "access_token_secret"), four, strict=True))
    if bearer_only:
        values = {"access_token": values["access_token"]}
    result = FLOW.check({"store_url": url, **values})
    assert result.ok, result.errors
    assert result.values["store_url"] == url
    assert all(result.values[k] == v for k, v in values.items())


# -- /getkey magento end to end, through the local Slack and this stand-in ------------------
journey_bot = journey_bot_fixture()


def test_getkey_adobe_commerce_end_to_end(journey_bot, server):
    bot = journey_bot
    values = mg.FULL.values()
    shown = refuse_plain_http_then_verify(
        bot, server, command="adobe commerce", guide_says="System › Extensions › Integrations",
        url_field="store_url", form=values, good_url=values["store_url"])
    assert "verified" in shown and "shop.example.com" in shown
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id)
    assert stored.platform == "magento" and stored.status == "verified"
    assert_secrets_kept_out(bot, _secrets(values))


def test_writing_needs_every_resource_and_says_which_are_missing(server):
    from flows.base import Purpose

    checked = FLOW.check(mg.NO_SALES.values())
    result = FLOW.run_verify(checked.values, http_for(server),
                             purpose=Purpose.WRITE)
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "access_token"
    assert result.missing == ("Customers", "Sales › Operations › Orders")  # named once each
    assert "reauthorize" in result.detail
    full = FLOW.check(mg.FULL.values())
    assert FLOW.run_verify(full.values, http_for(server),
                           purpose=Purpose.WRITE).ok
