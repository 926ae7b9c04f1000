from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import catalog
from flows.base import Failure
from flows.ecwid import FLOW, REQUIRED_SCOPES
from tests.builders import flow_runner, platform_fixtures
from tests.platforms import ecwid as ec

shared_server, server = platform_fixtures(ec.EcwidServer, reset=ec.EcwidServer.forget)
run = flow_runner(FLOW, ec.good_values)


def test_aliases_reach_the_flow():
    for name in ("ecwid", "lightspeed-e", "Lightspeed E-Series", "lightspeed e series",
                 "E-Series"):
        assert catalog.get(name) is FLOW, name


def test_required_scopes_are_the_seed_list():
    assert sorted(REQUIRED_SCOPES) == sorted(ec.REQUIRED_SCOPES)


def test_success_shows_store_and_permissions(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == "The Plant Shop"
    assert result.store_url == "https://plantshop.company.site"
    assert result.account == "Pat Gardener"
    assert set(REQUIRED_SCOPES) <= set(result.granted) and "read_invoices" in result.granted
    assert result.missing == ()
    profile, scopes = server.requests
    assert profile.path == f"/api/v3/{ec.STORE_ID}/profile"
    assert scopes.path == f"/api/v3/{ec.STORE_ID}/application/token"
    assert profile.headers["authorization"] == f"Bearer {ec.SECRET}"
    # The header carries the token; it never travels in the query string.
    assert all("token" not in r.query for r in server.requests)


def test_wrong_token_is_sent_once(server):
    result = run(server, secret_token=ec.SECRET[:-4] + "ZZZZ")
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "secret_token"
    assert len(server.requests) == 1 and server.bad_token_calls == 1


def test_token_of_another_store(server):
    result = run(server, secret_token=ec.OTHER_STORE_SECRET)
    assert result.failure is Failure.BAD_CREDENTIAL and "another store" in result.detail


def test_wrong_store_id(server):
    result = run(server, store_id="99999999")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "store_id"
    assert len(server.requests) == 1


def test_missing_permissions_are_named(server):
    result = run(server, secret_token=ec.DEFAULT_SECRET)
    assert not result.ok and result.failure is Failure.MISSING_PERMISSION
    assert result.store_name == "The Plant Shop"
    assert set(result.granted) == set(ec.DEFAULT_SCOPES)
    assert set(result.missing) == set(REQUIRED_SCOPES) - set(ec.DEFAULT_SCOPES)
    assert "read_customers" in result.detail and "reinstall" in result.detail
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("secret", "fragment"),
    [(ec.FREE_SECRET, "plan does not include API access"), (ec.SUSPENDED_SECRET, "suspended")],
)
def test_plan_without_api_access(server, secret, fragment):
    store = ec.FREE_STORE_ID if secret == ec.FREE_SECRET else ec.SUSPENDED_STORE_ID
    result = run(server, store_id=store, secret_token=secret)
    assert result.failure is Failure.NO_API_ACCESS and fragment in result.detail


def test_rate_limit_uses_retry_after(server):
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED and result.retry_after == 20
    assert len(server.requests) == 1


def test_unlisted_permissions_warn_instead_of_failing(server):
    # The token-info endpoint is not in Ecwid's public docs; if it is absent, a working
    # token still verifies, with a warning that permissions were not checked.
    server.token_info_missing = True
    result = run(server)
    assert result.ok and result.store_name == "The Plant Shop"
    assert any("not checked" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (ec.SECRET, None),
        (f"  {ec.SECRET}\n", None),
        (f"'{ec.SECRET}'", None),
        (f"Bearer {ec.SECRET}", None),
        ("secure_LegacyT0kenAbCdEfGh12345678", "legacy"),
        (ec.PUBLIC, "this is the public token; paste the secret one"),
        (ec.SECRET[7:], "starts with secret_"),
        ("secret_abc", "about 32 letters"),
        (ec.SECRET[:20] + " " + ec.SECRET[20:], "spaces"),
        (f"https://app.ecwid.com/api/v3/{ec.STORE_ID}/profile?token={ec.SECRET}", "web address"),
        (ec.STORE_ID, "starts with secret_"),
    ],
)
def test_secret_token_paste_mistakes(raw, fragment):
    result = FLOW.check({**ec.good_values(), "secret_token": raw})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["secret_token"] == ec.SECRET
    elif fragment == "legacy":
        assert result.ok and result.values["secret_token"] == raw
    else:
        assert fragment.lower() in result.errors["secret_token"].lower()
        assert ec.SECRET not in result.errors["secret_token"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (ec.STORE_ID, None),
        (f" {ec.STORE_ID} ", None),
        (f'"{ec.STORE_ID}"', None),
        (f"Store ID: {ec.STORE_ID}", None),
        (f"https://my.ecwid.com/store/{ec.STORE_ID}#develop-apps", None),
        (f"my.ecwid.com/store/{ec.STORE_ID}", None),
        (f"https://app.ecwid.com/api/v3/{ec.STORE_ID}/profile", None),
        (f"https://store{ec.STORE_ID}.company.site/products", None),
        ("https://www.plantshop.example/", "does not contain the store ID"),
        (ec.SECRET, "This is a token"),
        (ec.PUBLIC, "This is a token"),
        ("1234 5678", "without spaces"),
        ("plantshop", "only digits"),
        # Found by the near-valid property test: a URL used to bypass the length check.
        ("https://my.ecwid.com/store/12345678901234567", "at most 12"),
    ],
)
def test_store_id_paste_mistakes(raw, fragment):
    result = FLOW.check({**ec.good_values(), "store_id": raw})
    if fragment is None:
        assert result.ok, result.errors
        assert result.values["store_id"] == ec.STORE_ID
    else:
        assert fragment in result.errors["store_id"]


@pytest.mark.parametrize("key", ["store_id", "secret_token"])
def test_messages_never_echo_the_paste(key):
    for raw in ("does not contain the store ID.", "contains spaces or line breaks",
                "such as 12345678."):
        error = FLOW.check({**ec.good_values(), key: raw}).errors[key]
        assert raw not in error


# -- read_store_profile is always granted (issue 10) ---------------------------------------
def test_token_whose_list_omits_read_store_profile_is_not_failed(server):
    result = run(server, secret_token=ec.NO_PROFILE_LISTED_SECRET)
    assert result.ok, result.detail
    assert "read_store_profile" not in result.missing


def test_missing_permission_result_names_the_store(server):
    result = run(server, secret_token=ec.DEFAULT_SECRET)
    assert result.failure is Failure.MISSING_PERMISSION
    assert result.store_name == "The Plant Shop"


# -- every credential shape the docs / source guide show as valid passes check() --------
@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(["secret_", "secure_"]),
       body=st.text(alphabet=string.ascii_letters + string.digits, min_size=32, max_size=32),
       store_id=st.integers(min_value=1, max_value=10**11 - 1))
def test_every_documented_shape_passes_check(prefix, body, store_id):
    """Docs: secret_ + 32 letters and digits (e.g. secret_EZWiLeBXWsGg82XH3SfSFfdw418QNBBM),
    legacy secure_ tokens, a numeric store ID."""
    result = FLOW.check({"store_id": str(store_id), "secret_token": prefix + body})
    assert result.ok, result.errors
    assert result.values == {"store_id": str(store_id), "secret_token": prefix + body}


def test_write_purpose_needs_the_create_and_update_scopes():
    from flows.base import Purpose

    write = FLOW.needs[Purpose.WRITE]
    assert "create_catalog" in write and "update_orders" in write
    assert not any(s.startswith(("create_", "update_")) for s in FLOW.needs[Purpose.READ])
