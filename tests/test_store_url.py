"""flows.store_url on its own: whatever address is accepted is an https:// URL of the declared
shape, and the view bound to it may send to that host and to no other."""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.base import Field, FieldError
from flows.budget import Budget
from flows.http import PlatformHttp, Reply, host_allowed
from flows.store_url import SHAPE, TYPED_STORE, bound_to, clean_store_url, redirect_error

_PIECES = ["https://", "http://", "shop", ".", "example", "com", "/", ":", "8443", "@", "?",
           "ws_key=", "admin", "xn--", "-", "[", "]", "%2F", "..", "ü", " ", "127.0.0.1"]


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.text(max_size=80),
                     st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)))
def test_accepted_addresses_have_the_shape_and_bind_to_their_own_host_only(raw):
    field = Field("store_url", "Store address", clean=partial(clean_store_url, product="Test"),
                  shape=SHAPE, max_length=300)
    try:
        cleaned = field.run_clean(raw)
    except FieldError as exc:
        if len(raw.strip()) >= 8:
            assert raw.strip() not in str(exc)
        return
    assert re.fullmatch(SHAPE, cleaned), cleaned
    host = urlsplit(cleaned).hostname
    view = bound_to(type("F", (), {"id": "t", "name": "Test"})(), cleaned)
    assert view.hosts == (host,)
    assert host_allowed(host, view.hosts)
    assert not host_allowed("evil.example", view.hosts)
    assert not host_allowed(host, TYPED_STORE)


@pytest.mark.parametrize("location", ["https://www.shop.example/x?y=1", "/relative", "", "http://["])
def test_redirect_error_names_at_most_scheme_and_host(location):
    reply = Reply(301, httpx.Headers({"Location": location}), b"", "Test")
    error = redirect_error(reply, "store_url")
    assert error.field == "store_url" and "never follows a redirect" in error.detail
    assert "?y=1" not in error.detail and "/x" not in error.detail


def test_a_bound_view_keeps_the_flows_request_budget():
    """PlatformHttp counts calls per flow id with the flow's own Budget; binding to a store
    must not drop it."""
    budget = Budget(calls=3)
    flow = type("F", (), {"id": "t", "name": "Test", "hosts": TYPED_STORE, "budget": budget})()
    view = bound_to(flow, "https://shop.example.com")
    assert view.budget is budget and view.id == "t"
    assert PlatformHttp().ledger(view) is not None
