from __future__ import annotations

import pytest

from flows.base import Failure
from flows.wix import FLOW
from tests.conftest import check_and_verify
from tests.platforms import wix as server_mod


@pytest.fixture
def server():
    with server_mod.WixServer() as s:
        yield s


def run(server, **overrides: str):
    return check_and_verify(FLOW, server, {**server_mod.good_values(), **overrides})


def test_success_shows_site_name(server):
    result = run(server)
    assert result.ok and result.store_name == "The Plant Shop"
    req = server.requests[-1]
    # Wix wants the bare key, no "Bearer", and the account header.
    assert req.headers["authorization"] == server_mod.KEY
    assert req.headers["wix-account-id"] == server_mod.ACCOUNT


def test_site_id_must_belong_to_account(server):
    ok = run(server, site_id=server_mod.SITE)
    assert ok.ok and ok.store_name == "The Plant Shop"
    bad = run(server, site_id="11111111-2222-4333-8444-555555555555")
    assert bad.failure is Failure.WRONG_IDENTIFIER and bad.field == "site_id"


def test_wrong_key(server):
    result = run(server, api_key=server_mod.KEY[:-3] + "zzz")
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "api_key"
    assert len(server.requests) == 1  # never retried


def test_wrong_account(server):
    result = run(server, account_id="11111111-2222-4333-8444-555555555555")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "account_id"


def test_missing_permission(server):
    result = run(server, api_key=server_mod.LIMITED_KEY)
    assert result.failure is Failure.WRONG_IDENTIFIER
    assert "All Permissions" in result.detail


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("  " + server_mod.KEY + "\n", None),
        ('"' + server_mod.KEY + '"', None),
        (server_mod.KEY[4:], "IST."),
        (server_mod.KEY[:40] + " " + server_mod.KEY[40:], "spaces"),
        ("https://manage.wix.com/account/api-keys", "web address"),
        ("secret_abcdefghijklmnopqrstuvwxyz", "starts with IST."),
    ],
)
def test_key_paste_mistakes(raw, fragment):
    result = FLOW.check({**server_mod.good_values(), "api_key": raw})
    if fragment is None:
        assert result.ok and result.values["api_key"] == server_mod.KEY
    else:
        assert fragment in result.errors["api_key"]
        assert raw.strip() not in result.errors["api_key"]


def test_account_id_from_url_and_key_confusion():
    url = f"https://manage.wix.com/dashboard/{server_mod.ACCOUNT}/home"
    assert FLOW.check({**server_mod.good_values(), "account_id": url}).values["account_id"] == (
        server_mod.ACCOUNT
    )
    err = FLOW.check({**server_mod.good_values(), "account_id": server_mod.KEY}).errors
    assert "API key" in err["account_id"]
