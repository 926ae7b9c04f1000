from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.base import Failure
from flows.wix import FLOW
from tests.builders import flow_runner, own_platform_server
from tests.conftest import http_for
from tests.platforms import wix as server_mod

server = own_platform_server(server_mod.WixServer)
run = flow_runner(FLOW, server_mod.good_values)


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


# -- accounts with more sites than Query Sites lists (issues 10, 18) ----------------------
def test_site_past_the_first_thousand_is_found_with_one_filtered_call(server):
    site_id, name = server_mod.BIG_SITES[1020]
    result = run(server, account_id=server_mod.BIG_ACCOUNT, site_id=site_id)
    assert result.ok, result.detail
    assert result.store_name == name
    assert len(server.requests) == 1
    assert server.requests[0].json()["query"]["filter"] == {"id": {"$eq": site_id}}


def test_listing_stops_at_a_thousand_sites(server):
    # What paging can reach, which is why the site is asked for by id.
    names, cursor, pages = set(), None, 0
    while True:
        page, cursor = FLOW._query_sites(
            {"api_key": server_mod.KEY, "account_id": server_mod.BIG_ACCOUNT},
            http_for(server), cursor)
        names.update(page)
        pages += 1
        if cursor is None:
            break
    assert len(names) == 1000 and server_mod.BIG_SITES[1020][0] not in names


def test_site_missing_from_the_account_is_still_refused(server):
    result = run(server, account_id=server_mod.BIG_ACCOUNT,
                 site_id="11111111-2222-4333-8444-555555555555")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "site_id"
    assert len(server.requests) == 1


def test_many_sites_without_a_site_id_take_one_page_and_say_there_are_more(server):
    result = run(server, account_id=server_mod.BIG_ACCOUNT)
    assert result.ok and result.store_name.startswith("more than")
    assert len(server.requests) == 1


# -- honest about what the check proves; guide agrees with the source -------------------
def test_result_does_not_imply_all_permissions_were_proven(server):
    result = run(server)
    assert result.ok
    assert any("All Permissions" in w and "not" in w for w in result.warnings)


def test_guide_asks_for_the_owning_account_and_does_not_claim_co_owner_keys_fail():
    guide = " ".join(s.title + " " + s.detail for s in FLOW.steps).lower()
    # Wix: owners and co-owners can create keys; site calls need the owning account's key.
    assert "account that owns the site" in guide
    assert "co-owners: switch to that account first" in guide
    everything = guide + " ".join(t.symptom + t.fix for t in FLOW.troubleshooting).lower()
    assert "refused" not in everything.split("co-owner")[1][:80]
    assert "co-owner's key" not in everything


def test_403_message_points_to_the_owning_account(server):
    result = run(server, api_key=server_mod.LIMITED_KEY)
    assert "account that owns the site" in result.detail
    assert "co-owner's key" not in result.detail and "refused" not in result.detail


def test_guide_asks_for_site_access_and_the_result_says_it_was_not_checked(server):
    steps = [s for s in FLOW.steps if "site access" in (s.title + s.detail).lower()]
    assert steps and "All sites" in steps[0].detail
    result = run(server, site_id=server_mod.SITE)
    assert result.ok
    assert any("Site access was not checked" in w and "The Plant Shop" in w
               for w in result.warnings)


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
