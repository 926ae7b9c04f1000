from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

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


# -- accounts with more than one page of sites (issue 10) ---------------------------------
def test_site_past_the_first_page_is_found_by_following_the_cursor(server):
    site_id, name = server_mod.BIG_SITES[54]
    result = run(server, account_id=server_mod.BIG_ACCOUNT, site_id=site_id)
    assert result.ok, result.detail
    assert result.store_name == name
    # Two pages: the second asked for with the cursor the first answer gave.
    assert len(server.requests) == 2
    assert server.requests[1].json()["query"]["cursorPaging"]["cursor"]


def test_site_missing_from_every_page_is_still_refused(server):
    result = run(server, account_id=server_mod.BIG_ACCOUNT,
                 site_id="11111111-2222-4333-8444-555555555555")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "site_id"
    assert "60 sites" in result.detail


def test_many_sites_without_a_site_id_take_one_page_and_say_there_are_more(server):
    result = run(server, account_id=server_mod.BIG_ACCOUNT)
    assert result.ok and result.store_name.startswith("more than")
    assert len(server.requests) == 1


# -- honest about what the check proves; guide agrees with the source -------------------
def test_result_does_not_imply_all_permissions_were_proven(server):
    result = run(server)
    assert result.ok
    assert any("All Permissions" in w and "not" in w for w in result.warnings)


def test_guide_says_the_key_must_come_from_the_site_owner():
    guide = " ".join(s.title + " " + s.detail for s in FLOW.steps).lower()
    # The source guide: a co-owner's key gets 403; the guide must not say co-owners can.
    assert "co-owners can" not in guide
    assert "owner" in guide and "co-owner" in guide and "403" in guide
    forbidden = next(t for t in FLOW.troubleshooting if "403" in t.symptom)
    assert "site owner" in forbidden.fix and "co-owner" in forbidden.fix


def test_403_message_names_the_site_owner(server):
    result = run(server, api_key=server_mod.LIMITED_KEY)
    assert "site owner" in result.detail and "co-owner" in result.detail


def test_troubleshooting_covers_the_missing_sms_code():
    sms = [t for t in FLOW.troubleshooting if "SMS" in t.symptom]
    assert sms and "Wix Support" in sms[0].fix


# -- every credential shape the docs / source guide show as valid passes check() --------
_B64URL = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=80)


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(["IST.", "JWS."]), parts=st.tuples(_B64URL, _B64URL, _B64URL),
       account=st.uuids(), site=st.one_of(st.none(), st.uuids()))
def test_every_documented_shape_passes_check(prefix, parts, account, site):
    key = prefix + ".".join(parts)
    assume(str(account) != str(site))
    result = FLOW.check({"api_key": key, "account_id": str(account),
                         "site_id": str(site) if site else ""})
    assert result.ok, result.errors
    assert result.values["api_key"] == key
