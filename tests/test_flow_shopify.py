from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import catalog
from flows.base import Failure
from flows.http import PlatformHttp
from flows.shopify import API_VERSION, FLOW
from tests.builders import flow_runner, platform_fixtures
from tests.conftest import check_and_verify, http_for
from tests.platforms import shopify as sh

shared_server, server = platform_fixtures(sh.ShopifyServer)
run = flow_runner(FLOW, sh.good_values)


def paths(server) -> list[tuple[str, str, str]]:
    return [(r.method, r.host, r.path) for r in server.requests]


def test_aliases_reach_the_flow():
    for name in ("shopify", "Shopify Plus", "shopify-plus", "myshopify", "SHOPIFY"):
        assert catalog.get(name) is FLOW, name


def test_client_pair_mints_a_token_then_reads_shop_and_scopes(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == "The Plant Shop"
    assert result.environment == "Shopify Plus plan"
    assert result.store_url == "https://plantshop.example"
    assert result.account == "plant-shop.myshopify.com"
    assert "write_products" in result.granted and result.missing == ()
    # The stored credential is the pair, which does not expire; the minted token does.
    assert result.expires_at is None
    assert any("mints a fresh token" in w for w in result.warnings)
    host = f"{sh.SHOP}.myshopify.com"
    assert paths(server) == [
        ("POST", host, "/admin/oauth/access_token"),
        ("GET", host, f"/admin/api/{API_VERSION}/shop.json"),
        ("GET", host, "/admin/oauth/access_scopes.json"),  # unversioned, as documented
    ]
    grant = server.requests[0]
    assert grant.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert {k: v[0] for k, v in parse_qs(grant.body.decode()).items()} == {
        "grant_type": "client_credentials", "client_id": sh.CLIENT_ID,
        "client_secret": sh.CLIENT_SECRET}
    minted = server.minted[-1]
    assert all(r.headers["x-shopify-access-token"] == minted for r in server.requests[1:])
    # The secret only ever travels in the grant's body.
    assert all(sh.CLIENT_SECRET not in str(r.headers) for r in server.requests)


def test_legacy_admin_token_still_works_without_expiry(server):
    result = check_and_verify(FLOW, server, sh.legacy_values())
    assert result.ok, result.detail
    assert result.expires_at is None and result.store_name == "The Plant Shop"
    assert any("never expires" in w for w in result.warnings)
    assert [p[2] for p in paths(server)] == [f"/admin/api/{API_VERSION}/shop.json",
                                             "/admin/oauth/access_scopes.json"]


def test_missing_scopes_are_named_with_the_store(server):
    result = check_and_verify(FLOW, server, sh.missing_permission_values()[0])
    assert result.failure is Failure.MISSING_PERMISSION and result.field == "client_id"
    assert result.missing == ("read_customers", "read_content")
    assert result.store_name == "The Plant Shop"
    assert "read_customers" in result.detail and "new version" in result.detail
    # write_products grants read_products: not reported missing.
    assert "read_products" not in result.missing


def test_read_only_app_passes_with_a_warning_about_writing(server):
    result = run(server, client_id=sh.READER_CLIENT_ID, client_secret=sh.READER_SECRET)
    assert result.ok, result.detail
    assert any("write_products" in w and "not into it" in w for w in result.warnings)
    assert any("read_all_orders" in w for w in result.warnings)


def test_wrong_secret_is_refused_once(server):
    result = run(server, client_secret="shpss_" + "0" * 32)
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "client_secret"
    assert len(server.requests) == 1
    assert "shpss_" + "0" * 32 not in result.detail


def test_app_not_installed_points_at_install(server):
    result = run(server, shop=sh.OTHER_SHOP)
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "shop"
    assert "not installed" in result.detail and "Install app" in result.detail


def test_app_of_another_organization_is_explained(server):
    result = run(server, shop=sh.FOREIGN_SHOP)
    assert result.failure is Failure.NO_API_ACCESS and result.field == "client_id"
    assert "organization" in result.detail


def test_unknown_and_frozen_shops(server):
    unknown = run(server, shop="no-such-shop")
    assert unknown.failure is Failure.WRONG_IDENTIFIER and unknown.field == "shop"
    frozen = run(server, shop=sh.FROZEN_SHOP)
    assert frozen.failure is Failure.NO_API_ACCESS and "frozen" in frozen.detail


def test_refused_legacy_token_and_storefront_token_are_explained(server):
    wrong = check_and_verify(FLOW, server, sh.legacy_values("shpat_" + "1" * 32))
    assert wrong.failure is Failure.BAD_CREDENTIAL and wrong.field == "access_token"
    assert "Storefront" not in wrong.detail
    storefront = check_and_verify(FLOW, server, sh.legacy_values(sh.STOREFRONT_TOKEN))
    assert storefront.failure is Failure.BAD_CREDENTIAL and storefront.field == "access_token"
    assert "Storefront API token" in storefront.detail
    assert sh.STOREFRONT_TOKEN not in storefront.detail


def test_rate_limit_honours_decimal_retry_after(server):
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED and result.retry_after == 2.0
    assert "2 seconds" in result.detail
    assert len(server.requests) == 1


# -- a fresh token for a tool ----------------------------------------------------------
def test_access_values_mint_a_fresh_working_token_each_time(server):
    http = http_for(server)
    values = FLOW.check(sh.good_values()).values
    first = FLOW.access_values(values, http)
    second = FLOW.access_values(values, http)
    assert first["access_token"] != second["access_token"]
    assert second["access_token"] == server.minted[-1]
    assert (first["client_id"], first["client_secret"]) == (sh.CLIENT_ID, sh.CLIENT_SECRET)
    expires = datetime.fromisoformat(second["access_token_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(seconds=86399)
    # The token handed out opens the Admin API.
    reply = http.request(FLOW, "GET",
                         f"https://{sh.SHOP}.myshopify.com/admin/api/{API_VERSION}/shop.json",
                         headers={"X-Shopify-Access-Token": second["access_token"]})
    assert reply.status == 200
    assert "access_token" not in values or values["access_token"] == ""  # nothing stored


def test_access_values_of_a_legacy_token_are_the_stored_ones(server):
    values = FLOW.check(sh.legacy_values()).values
    assert FLOW.access_values(values, http_for(server)) == values
    assert server.requests == []


def test_access_values_refusal_is_a_verify_error(server):
    from flows.base import VerifyError

    values = FLOW.check({**sh.good_values(), "client_secret": "shpss_" + "0" * 32}).values
    with pytest.raises(VerifyError) as caught:
        FLOW.access_values(values, http_for(server))
    assert caught.value.failure is Failure.BAD_CREDENTIAL


def test_api_url_override_keeps_path_and_store_host_whatever_was_typed(server):
    typed = f"https://admin.shopify.com/store/{sh.SHOP}/products?selectedView=all"
    assert run(server, shop=typed).ok
    assert {r.host for r in server.requests} == {f"{sh.SHOP}.myshopify.com"}
    assert server.requests[1].path == f"/admin/api/{API_VERSION}/shop.json"


def test_without_override_nothing_leaves_for_a_foreign_host():
    http = PlatformHttp(environ={})
    from flows.base import VerifyError

    with pytest.raises(VerifyError):
        http.request(FLOW, "GET", "https://evil.example/admin/oauth/access_scopes.json")
    with pytest.raises(VerifyError):  # one extra label only
        http.request(FLOW, "GET", "https://a.b.myshopify.com/")


# -- format checks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expect"),
    [
        ("plant-shop", "plant-shop"),
        ("Plant-Shop", "plant-shop"),
        ("plant-shop.myshopify.com", "plant-shop"),
        ("https://plant-shop.myshopify.com/admin/products", "plant-shop"),
        ("https://admin.shopify.com/store/plant-shop", "plant-shop"),
        ("admin.shopify.com/store/6nzh0y-y6/orders?x=1", "6nzh0y-y6"),
        (" 'plant-shop.myshopify.com/' ", "plant-shop"),
        ("https://plantshop.example", "own domain"),
        ("https://admin.shopify.com/settings", "does not name a store"),
        ("https://www.shopify.com", "Shopify's own addresses"),
        (sh.LEGACY_TOKEN, "token or secret"),
        ("plant shop", "one word"),
        ("-plant", "one word"),
    ],
)
def test_shop_paste_forms(raw, expect):
    result = FLOW.check({**sh.good_values(), "shop": raw})
    if "-" in expect and " " not in expect and result.ok:
        assert result.values["shop"] == expect
    else:
        assert expect in result.errors["shop"], result


@pytest.mark.parametrize(
    ("key", "raw", "fragment"),
    [
        ("access_token", sh.CLIENT_SECRET, "app's secret (shpss_)"),
        ("access_token", "shpsa_" + "1" * 32, "not an Admin API access token"),
        ("access_token", "shpat_" + "1" * 31, "32 characters"),
        ("client_secret", sh.LEGACY_TOKEN, "Admin API access token"),
        ("client_secret", "shpss_short", "shpss_ followed by 32"),
        ("client_id", sh.CLIENT_SECRET, "client secret"),
        ("client_id", sh.LEGACY_TOKEN, "access token"),
    ],
)
def test_credential_mix_ups_are_refused_with_the_reason(key, raw, fragment):
    base = sh.good_values() if key != "access_token" else sh.legacy_values()
    result = FLOW.check({**base, key: raw})
    assert fragment in result.errors[key]
    assert raw not in result.errors[key]


def test_pair_and_token_combinations():
    assert "not both" in FLOW.check({**sh.good_values(), "access_token": sh.LEGACY_TOKEN}
                                    ).errors["access_token"]
    assert "go together" in FLOW.check({**sh.good_values(), "client_secret": ""}
                                       ).errors["client_secret"]
    assert "go together" in FLOW.check({**sh.good_values(), "client_id": ""}).errors["client_id"]
    assert "client ID and secret" in FLOW.check({"shop": sh.SHOP}).errors["client_id"]


_HEX = "0123456789abcdef"


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(["shpat_", "shpca_", "shppa_", ""]),
       body=st.text(alphabet=_HEX, min_size=32, max_size=32),
       secret_prefix=st.sampled_from(["shpss_", ""]),
       secret=st.text(alphabet=_HEX, min_size=32, max_size=32),
       client_id=st.text(alphabet=_HEX, min_size=32, max_size=32),
       shop=st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
       as_address=st.sampled_from(["{s}", "{s}.myshopify.com", "https://{s}.myshopify.com/admin",
                                   "https://admin.shopify.com/store/{s}/home"]))
def test_every_documented_shape_passes_check(prefix, body, secret_prefix, secret, client_id,
                                             shop, as_address):
    """Admin tokens shpat_/shpca_/shppa_ + 32 (and pre-2020 bare 32), secrets shpss_ + 32 (older
    apps: bare 32), observed 32-hex client IDs, every shop address form the docs show."""
    typed = as_address.format(s=shop)
    legacy = FLOW.check({"shop": typed, "access_token": prefix + body})
    assert legacy.ok, legacy.errors
    assert legacy.values["access_token"] == prefix + body and legacy.values["shop"] == shop
    pair = FLOW.check({"shop": typed, "client_id": client_id,
                       "client_secret": secret_prefix + secret})
    assert pair.ok, pair.errors
    assert pair.values["client_secret"] == secret_prefix + secret


# -- purposes ---------------------------------------------------------------------------
def test_read_scopes_app_is_refused_for_writing_and_accepted_for_reading(server):
    from flows.base import Purpose

    values = FLOW.check({**sh.good_values(), "client_id": sh.READER_CLIENT_ID,
                         "client_secret": sh.READER_SECRET}).values
    http = http_for(server)
    assert FLOW.run_verify(values, http, purpose=Purpose.READ).ok
    write = FLOW.run_verify(values, http, purpose=Purpose.WRITE)
    assert write.failure is Failure.MISSING_PERMISSION
    assert "write_products" in write.missing and "write_products" in write.detail
    assert FLOW.run_verify(FLOW.check(sh.good_values()).values, http, purpose=Purpose.WRITE).ok
