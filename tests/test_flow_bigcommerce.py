from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import catalog
from flows.base import Failure, Purpose
from flows.bigcommerce import FLOW, parse_credentials_file
from tests.builders import flow_runner, platform_fixtures
from tests.conftest import http_for
from tests.platforms import bigcommerce as bc

shared_server, server = platform_fixtures(bc.BigCommerceServer)
run = flow_runner(FLOW, bc.good_values)


def test_aliases_reach_the_flow():
    for name in ("bigcommerce", "BC", "Big Commerce", "big-commerce"):
        assert catalog.get(name) is FLOW


def test_success_shows_store_name_domain_and_plan(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == "The Plant Shop"
    assert result.store_url == "https://plantshop.example"
    assert result.environment == "Standard plan"
    assert set(result.granted) == {
        "Information & Settings", "Content", "Marketing", "Channel Settings",
        "Channel Listings", "Products", "Customers", "Orders",
    }
    assert result.missing == ()
    first = server.requests[0]
    assert first.path == f"/stores/{bc.HASH}/v2/store"
    assert first.headers["x-auth-token"] == bc.TOKEN
    assert first.headers["accept"] == "application/json"
    # No client ID header: it is deprecated and getkey does not collect it.
    assert "x-auth-client" not in first.headers
    # One request per scope, the store information doubling as the Information probe.
    assert len(server.requests) == 8


def test_credentials_file_alone_is_enough(server):
    checked = FLOW.check({"credentials_file": bc.credentials_file()})
    assert checked.ok, checked.errors
    assert checked.values["store_hash"] == bc.HASH
    assert checked.values["access_token"] == bc.TOKEN
    # The file (with its client secret) is not kept once its fields are picked out.
    assert checked.values["credentials_file"] == ""
    assert FLOW.run_verify(checked.values, http_for(server)).ok


def test_wrong_token(server):
    result = run(server, access_token=bc.TOKEN[:-3] + "zzz")
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "access_token"
    assert len(server.requests) == 1  # a refused token is never sent again


def test_token_of_another_store(server):
    result = run(server, access_token=bc.OTHER_STORE_TOKEN)
    assert result.failure is Failure.BAD_CREDENTIAL
    assert "another store" in result.detail
    assert len(server.requests) == 1


def test_client_id_instead_of_token_is_explained(server):
    result = run(server, access_token=bc.CLIENT_ID)
    assert result.failure is Failure.BAD_CREDENTIAL and "CLIENT ID" in result.detail


def test_wrong_store_hash(server):
    result = run(server, store_hash="nosuch999")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "store_hash"
    assert len(server.requests) == 1


def test_store_refusing_even_the_scope_free_call_is_a_wrong_hash(server):
    result = run(server, store_hash=bc.MISROUTED_HASH)
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "store_hash"
    # The store information, then the webhook list to tell scope from store; no probes.
    assert [r.path.rsplit("/", 2)[-2:] for r in server.requests] == [["v2", "store"],
                                                                      ["v3", "hooks"]]


def test_missing_required_scopes_are_named(server):
    result = run(server, access_token=bc.NO_INFO_TOKEN)
    assert not result.ok and result.failure is Failure.MISSING_PERMISSION
    assert result.missing == ("Information & Settings", "Marketing")
    assert "Products" in result.granted and "Content" in result.granted
    assert "Information & Settings" in result.detail and "new API account" in result.detail
    # The store information was refused, so the scope-free webhook list was asked to tell
    # a missing scope from a wrong store; it was asked once.
    paths = [r.path for r in server.requests]
    assert paths.count(f"/stores/{bc.HASH}/v3/hooks") == 1
    assert len(paths) == 9


def test_missing_optional_scopes_are_warnings(server):
    result = run(server, access_token=bc.NO_CUSTOMERS_TOKEN)
    assert result.ok and result.store_name == "The Plant Shop"
    assert result.missing == ("Customers", "Orders")
    assert any(w.startswith("Customers is not granted") for w in result.warnings)


def test_rate_limit_reads_reset_header(server):
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED and result.retry_after == 12.5
    assert "13 seconds" in result.detail


API_PATH = f"https://api.bigcommerce.com/stores/{bc.HASH}/v3/"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (bc.HASH, None),
        (f"  {bc.HASH}\n", None),
        (f"'{bc.HASH}'", None),
        (API_PATH, None),
        (f"api.bigcommerce.com/stores/{bc.HASH}/v2", None),
        (f"API PATH: {API_PATH}", None),
        (f"stores/{bc.HASH}/v3/", None),
        (f"https://store-{bc.HASH}.mybigcommerce.com/manage/dashboard", None),
        ("https://plantshop.example/shop", "does not contain the store hash"),
        ("plantshop.mybigcommerce.com", "does not contain the store hash"),
        (bc.TOKEN, "token or client ID"),
        (bc.CLIENT_SECRET, "token or client ID"),
        ("abc 123xyz", "no spaces"),
        ("abc-123", "letters and digits"),
    ],
)
def test_store_hash_paste_mistakes(raw, fragment):
    result = FLOW.check({**bc.good_values(), "store_hash": raw})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["store_hash"] == bc.HASH
    else:
        assert fragment in result.errors["store_hash"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (f" {bc.TOKEN} ", None),
        (f'"{bc.TOKEN}"', None),
        (f"ACCESS TOKEN: {bc.TOKEN}", None),
        (f"X-Auth-Token: {bc.TOKEN}", None),
        (bc.TOKEN[:10] + " " + bc.TOKEN[10:], "spaces"),
        (API_PATH, "web address"),
        (bc.CLIENT_SECRET, "CLIENT SECRET"),
        (bc.credentials_file(), "whole credentials file"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "letters and digits"),
        ("short1", "letters and digits"),
    ],
)
def test_token_paste_mistakes(raw, fragment):
    result = FLOW.check({**bc.good_values(), "access_token": raw})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["access_token"] == bc.TOKEN
    else:
        assert fragment in result.errors["access_token"]
        assert bc.TOKEN not in result.errors["access_token"]


POPUP_COPY = (
    "Client ID\n" + bc.CLIENT_ID + "\n\nClient secret\n" + bc.CLIENT_SECRET
    + "\n\nAccess token\n" + bc.TOKEN + "\n\nAPI path\n" + API_PATH + "\n"
)


@pytest.mark.parametrize(
    ("raw", "expect"),
    [
        (bc.credentials_file(), (bc.HASH, bc.TOKEN)),
        (bc.credentials_file().replace("\n", "\r\n"), (bc.HASH, bc.TOKEN)),
        ("NAME: shop\n" + bc.credentials_file(), (bc.HASH, bc.TOKEN)),
        (POPUP_COPY, (bc.HASH, bc.TOKEN)),
        ("```\n" + bc.credentials_file() + "```", (bc.HASH, bc.TOKEN)),
        (bc.TOKEN, "does not look like the BigCommerce credentials file"),
        ("CLIENT ID: x\nCLIENT SECRET: y\n", "no ACCESS TOKEN line"),
        (bc.credentials_file(token="not a token"), "ACCESS TOKEN is not usable"),
        (bc.credentials_file(store_hash="a/b"), "API PATH does not contain"),
    ],
)
def test_credentials_file_paste(raw, expect):
    result = FLOW.check({"credentials_file": raw})
    if isinstance(expect, tuple):
        assert result.ok, result.errors
        assert (result.values["store_hash"], result.values["access_token"]) == expect
    else:
        assert expect in result.errors["credentials_file"]
        assert bc.CLIENT_SECRET not in result.errors["credentials_file"]


def test_file_without_api_path_uses_the_hash_box():
    text = bc.credentials_file().replace(f"API PATH: {API_PATH}\n", "")
    assert "API PATH" not in parse_credentials_file(text)
    result = FLOW.check({"credentials_file": text, "store_hash": bc.HASH})
    assert result.ok and result.values["store_hash"] == bc.HASH
    missing = FLOW.check({"credentials_file": text})
    assert "store hash" in missing.errors["store_hash"]


def test_file_disagreeing_with_a_typed_value_is_refused():
    result = FLOW.check({"credentials_file": bc.credentials_file(), "store_hash": bc.OTHER_HASH})
    assert "differs from the one in the pasted file" in result.errors["store_hash"]


def test_nothing_entered_points_at_each_box():
    assert "store hash" in FLOW.check({}).errors["store_hash"]
    assert "access token" in FLOW.check({"store_hash": bc.HASH}).errors["access_token"]


@pytest.mark.parametrize("key", ["store_hash", "access_token", "credentials_file"])
def test_messages_never_echo_the_paste(key):
    # Fragments of the messages' own example addresses, pasted back: the message must
    # still not contain what was pasted (found by hypothesis).
    for raw in ("ommerce.", "mybigcommerce.com", "stores/…/v3/", "has no spaces"):
        error = FLOW.check({**bc.good_values(), key: raw}).errors[key]
        assert raw not in error


# -- current endpoints and documented answers (issue 10) ------------------------------------
def test_content_scope_is_probed_on_pages_v3(server):
    result = run(server)
    assert result.ok and "Content" in result.granted
    paths = [r.path for r in server.requests]
    assert f"/stores/{bc.HASH}/v3/content/pages" in paths
    assert not any("/v2/pages" in p for p in paths)


def test_503_says_maintenance_or_suspended_not_a_temporary_error(server):
    result = run(server, store_hash=bc.SUSPENDED_HASH)
    assert result.failure is Failure.UNREACHABLE
    assert "maintenance" in result.detail and "suspended" in result.detail
    assert "try again in a few minutes" not in result.detail
    assert len(server.requests) == 1


def test_missing_permission_result_names_the_store(server):
    result = run(server, access_token=bc.NO_INFO_TOKEN)
    assert result.failure is Failure.MISSING_PERMISSION
    assert result.account == f"store {bc.HASH}"


# -- every credential shape the docs / source guide show as valid passes check() --------
_LOWER = string.ascii_lowercase + string.digits


@settings(max_examples=200, deadline=None)
@given(token=st.text(alphabet=_LOWER, min_size=30, max_size=31),
       store_hash=st.text(alphabet=_LOWER, min_size=9, max_size=10),
       as_file=st.booleans())
def test_every_documented_shape_passes_check(token, store_hash, as_file):
    """Observed shapes (30-31 lowercase characters, 9-10 character hash), typed or as the
    credentials .txt in the layout BigCommerce documents."""
    values = ({"credentials_file": bc.credentials_file(token, store_hash), "store_hash": "",
               "access_token": ""} if as_file
              else {"credentials_file": "", "store_hash": store_hash, "access_token": token})
    result = FLOW.check(values)
    assert result.ok, result.errors
    assert result.values["access_token"] == token
    assert result.values["store_hash"] == store_hash


def _for(server, purpose, token):
    checked = FLOW.check({**bc.good_values(), "access_token": token})
    assert checked.ok, checked.errors
    return FLOW.run_verify(checked.values, http_for(server), purpose=purpose)


def test_read_only_account_is_refused_for_an_import_naming_the_scopes_to_modify(server):
    result = _for(server, Purpose.WRITE, bc.READ_ONLY_TOKEN)
    assert result.failure is Failure.MISSING_PERMISSION
    for scope in ("Content", "Products", "Orders", "Information & Settings"):
        assert f"{scope}: Modify" in result.detail
        assert f"{scope}: Modify" in result.missing
    assert "*Modify* on every scope" in result.detail
    assert result.store_name == "The Plant Shop" and result.field == "access_token"
    # Only empty bodies were sent: the store was not changed by checking.
    assert server.writes == []
    assert bc.READ_ONLY_TOKEN not in result.detail


def test_same_read_only_account_is_accepted_for_an_export(server):
    result = _for(server, Purpose.READ, bc.READ_ONLY_TOKEN)
    assert result.ok, result.detail
    # An export sends no write probe at all.
    assert all(r.method == "GET" for r in server.requests)


def test_modify_account_is_accepted_for_an_import(server):
    result = _for(server, Purpose.WRITE, bc.TOKEN)
    assert result.ok, result.detail
    assert {r.method for r in server.requests} == {"GET", "POST", "PUT"}
    assert server.writes == []


def test_revocation_says_delete_the_api_account():
    text = " ".join(s.title + " " + s.detail for s in FLOW.revoke_steps)
    assert "Store-level API accounts" in text and "*Delete*" in text
