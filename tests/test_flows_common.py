"""What every platform flow must do, run against every platform's local server."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import catalog
from flows.base import Failure, FieldError
from flows.http import env_name
from tests.conftest import http_for, platform_module
from tests.platforms.server import FAULTS

VERIFIABLE = [f.id for f in catalog.all_flows() if f.verifiable]

EXPECTED = {
    "rate_limit": Failure.RATE_LIMITED,
    "server_error": Failure.UNREACHABLE,
    "timeout": Failure.UNREACHABLE,
    "malformed": Failure.UNEXPECTED,
    "oversized": Failure.UNEXPECTED,
    "redirect": Failure.UNEXPECTED,
}


def test_catalogue_has_all_platforms():
    assert set(catalog.ids()) == {
        "wix", "bigcommerce", "ecwid", "lightspeed-ecom", "lightspeed-r", "lightspeed-x",
        "lightspeed-s", "lightyshare",
    }


@pytest.fixture(params=VERIFIABLE)
def started(request):
    flow = catalog.get(request.param)
    mod = platform_module(flow.id)
    with mod.SERVER() as server:
        yield flow, mod, server


def test_good_credential_verifies(started):
    flow, mod, server = started
    checked = flow.check(mod.good_values())
    assert checked.ok, checked.errors
    result = flow.run_verify(checked.values, http_for(server))
    assert result.ok, result.detail
    assert result.store_name or result.account


@pytest.mark.parametrize("fault", FAULTS)
def test_platform_trouble_becomes_actionable_failure(started, fault):
    flow, mod, server = started
    server.fault = fault
    server.slow_seconds = 2.0
    values = flow.check(mod.good_values()).values
    result = flow.run_verify(values, http_for(server, total_timeout=0.5))
    assert not result.ok
    assert result.failure is EXPECTED[fault], (fault, result)
    assert flow.name in result.detail
    if fault == "rate_limit":
        assert "Try again" in result.detail or "try again" in result.detail
    for secret in (values[f.key] for f in flow.secret_fields):
        if secret:
            assert secret not in result.detail
    # A rejected or failing credential is never hammered: one request per verification,
    # except flows that make a second, different call after a first success.
    assert len(server.requests) <= 2


def test_redirect_is_never_followed(started):
    flow, mod, server = started
    server.fault = "redirect"
    values = flow.check(mod.good_values()).values
    flow.run_verify(values, http_for(server))
    assert all("attacker" not in r.host for r in server.requests)
    assert len(server.requests) == 1


def test_override_env_name_is_documented_form():
    assert env_name("lightspeed-x") == "GETKEY_LIGHTSPEED_X_API_URL"
    assert env_name("wix") == "GETKEY_WIX_API_URL"


def test_every_verifiable_flow_has_a_local_server():
    for flow_id in VERIFIABLE:
        mod = platform_module(flow_id)
        assert mod.SERVER.flow_id == flow_id


def test_every_flow_is_complete():
    for flow in catalog.all_flows():
        assert flow.name and flow.summary and flow.steps and flow.troubleshooting, flow.id
        assert flow.rotation_days > 0
        if flow.verifiable:
            assert flow.fields and flow.hosts and any(f.secret for f in flow.fields), flow.id
        for f in flow.fields:
            assert f.label and len(f.label) <= 75 and f.max_length <= 3000


ALL_FIELDS = [(flow.id, f.key) for flow in catalog.all_flows() for f in flow.fields]


@pytest.mark.parametrize(("flow_id", "key"), ALL_FIELDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_field_checks_never_crash(flow_id, key, text):
    flow = catalog.get(flow_id)
    f = flow.field(key)
    try:
        cleaned = f.run_clean(text)
    except FieldError as exc:
        # The message never repeats what was pasted (it may be a secret).
        if len(text.strip()) >= 8:
            assert text.strip() not in str(exc)
        return
    # Whatever is accepted is clean: no surrounding or embedded line breaks for one-line
    # values, no quotes around it.
    assert cleaned == cleaned.strip() or f.multiline
    if cleaned and f.secret:
        assert not any(ch.isspace() for ch in cleaned)
    assert len(cleaned) <= f.max_length
