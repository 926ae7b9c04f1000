from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.base import Failure
from flows.http import host_allowed
from flows.lightspeed_x import FLOW
from tests.builders import flow_runner, own_platform_server
from tests.conftest import http_for
from tests.platforms import lightspeed_x as server_mod

server = own_platform_server(server_mod.LightspeedXServer)
run = flow_runner(FLOW, server_mod.good_values)


def test_success_shows_store_name(server):
    result = run(server)
    assert result.ok, result.detail
    assert result.store_name == "The Plant Shop"
    assert result.store_url == "https://plantshop.retail.lightspeed.app"
    assert result.account == "plantshop"
    assert result.expires_at is None and not result.warnings
    req = server.requests[-1]
    assert req.host == "plantshop.retail.lightspeed.app" and req.path == "/api/2.0/retailer"
    assert req.headers["authorization"] == "Bearer " + server_mod.TOKEN


def test_expiry_date_is_the_end_of_that_day_not_its_first_utc_moment(server):
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    result = run(server, expires_on=day.isoformat())
    assert result.ok and not result.warnings
    # No time zone known: the end of that day in UTC, never 00:00 UTC (the day before, for
    # anyone west of Greenwich).
    assert result.expires_at == datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


def test_expiry_date_ends_in_the_person_s_time_zone(server):
    from zoneinfo import ZoneInfo

    day = (datetime.now(UTC) + timedelta(days=40)).date()
    values = FLOW.check({**server_mod.good_values(), "expires_on": day.isoformat()}).values
    result = FLOW.run_verify({**values, "time_zone": "America/Los_Angeles"}, http_for(server))
    local = result.expires_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.date(), local.hour, local.minute) == (day, 23, 59)
    guide = " ".join(s.detail for s in FLOW.steps)
    assert "end of that date in your own time zone" in guide


def test_pasted_store_url_reaches_that_store(server):
    result = run(server, domain_prefix="https://toolshop.vendhq.com/setup/personal_tokens",
                 token=server_mod.OTHER_TOKEN)
    assert result.ok and result.store_name == "Tool Shop"
    # The legacy address is accepted, but the call goes to the current host.
    assert server.requests[-1].host == "toolshop.retail.lightspeed.app"


def test_wrong_token(server):
    result = run(server, token=server_mod.TOKEN[:-4] + "abcd")
    assert result.failure is Failure.BAD_CREDENTIAL and result.field == "token"
    assert len(server.requests) == 1


def test_token_of_another_store(server):
    result = run(server, token=server_mod.OTHER_TOKEN)
    assert result.failure is Failure.BAD_CREDENTIAL and "different store" in result.detail


def test_wrong_prefix(server):
    result = run(server, domain_prefix="plantshopp")
    assert result.failure is Failure.WRONG_IDENTIFIER and result.field == "domain_prefix"
    assert "plantshopp.retail.lightspeed.app" in result.detail


def test_store_without_api_access(server):
    result = run(server, domain_prefix=server_mod.SUSPENDED_PREFIX,
                 token=server_mod.SUSPENDED_TOKEN)
    assert result.failure is Failure.NO_API_ACCESS


def test_rate_limit_reads_http_date(server):
    server.fault = "rate_limit"
    result = run(server)
    assert result.failure is Failure.RATE_LIMITED
    assert result.retry_after is not None and 0 < result.retry_after <= 21
    assert "Try again in" in result.detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plantshop", "plantshop"),
        ("  PlantShop ", "plantshop"),
        ("https://plantshop.retail.lightspeed.app/", "plantshop"),
        ("plantshop.retail.lightspeed.app", "plantshop"),
        ("https://plantshop.vendhq.com", "plantshop"),
        ("http://plant-shop.vendhq.com/sell", "plant-shop"),
        ("https://plantshop.retail.lightspeed.app.evil.com/", None),
        ("https://evil.com/plantshop.retail.lightspeed.app", None),
        ("https://a.b.retail.lightspeed.app", None),
        ("https://secure.vendhq.com/signin", None),
        ("plant shop", None),
        ("-plantshop", None),
        ("plantshop%2eevil", None),
        (server_mod.TOKEN, None),
        ("https://[oops", None),
    ],
)
def test_prefix_paste_mistakes(raw, expected):
    result = FLOW.check({**server_mod.good_values(), "domain_prefix": raw})
    if expected:
        assert result.values["domain_prefix"] == expected
        # Whatever is accepted can only ever address the platform's own hosts.
        assert host_allowed(f"{expected}.retail.lightspeed.app", FLOW.hosts)
    else:
        assert "domain_prefix" in result.errors


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (" " + server_mod.TOKEN + "\n", None),
        ("'" + server_mod.TOKEN + "'", None),
        ("Bearer " + server_mod.TOKEN, None),
        (server_mod.TOKEN[:20] + " " + server_mod.TOKEN[20:], "spaces"),
        (server_mod.TOKEN[:14], "cut short"),
        ("lsxs_at_MxoU8IdsQ3rT7yWb2nK5vH9cZ1aL4eGj", "not a personal token"),
        ("https://plantshop.retail.lightspeed.app/setup/personal_tokens", "web address"),
        ("short", "long run"),
    ],
)
def test_token_paste_mistakes(raw, fragment):
    result = FLOW.check({**server_mod.good_values(), "token": raw})
    if fragment is None:
        assert result.ok and result.values["token"] == server_mod.TOKEN
    else:
        assert fragment in result.errors["token"]
        assert raw.strip() not in result.errors["token"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("never", ""),
        ("None", ""),
        ((date.today() + timedelta(days=400)).isoformat(),
         (date.today() + timedelta(days=400)).isoformat()),
        ("31/12/2030", None),
        ("2030-02-30", None),
        ("2001-01-01", None),
        ("next year", None),
    ],
)
def test_expiry_paste_mistakes(raw, expected):
    result = FLOW.check({**server_mod.good_values(), "expires_on": raw})
    if expected is None:
        assert "expires_on" in result.errors
    else:
        assert result.ok and result.values["expires_on"] == expected


# -- every credential shape the docs / source guide show as valid passes check() --------
_ALNUM = string.ascii_letters + string.digits


@settings(max_examples=200, deadline=None)
@given(prefix=st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
       token=st.one_of(
           # Personal tokens as observed (lsxs_pt_…), and the 40-character tokens of the
           # X-Series API docs' examples from before that prefix existed.
           st.text(alphabet=_ALNUM, min_size=20, max_size=80).map(lambda t: "lsxs_pt_" + t),
           st.text(alphabet=_ALNUM, min_size=40, max_size=40)),
       # An expiry date already past is refused on purpose (that token no longer works).
       expires=st.one_of(st.just(""), st.dates(min_value=date.today() + timedelta(days=2),
                                               max_value=date(2099, 12, 31)).map(date.isoformat)))
def test_every_documented_shape_passes_check(prefix, token, expires):
    assume(prefix not in ("www", "secure", "api", "login", "my", "help", "support",
                          "developers"))
    assume(not token.startswith("lsxs_") or token.startswith("lsxs_pt_"))
    values = {"domain_prefix": prefix, "token": token, "expires_on": expires}
    result = FLOW.check(values)
    assert result.ok, result.errors
    assert result.values["token"] == token and result.values["domain_prefix"] == prefix
