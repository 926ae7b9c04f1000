from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flows import catalog
from flows.base import Failure
from flows.http import PlatformHttp
from flows.lightspeed_s import FLOW


def test_is_a_guide_without_fields():
    assert not FLOW.verifiable and FLOW.fields == ()
    assert FLOW.rotation_days > 0
    titles = " ".join(s.title for s in FLOW.steps)
    assert "no key" in titles and "Export your items" in titles
    assert "Export your customers" in titles


def test_verify_explains_without_any_network():
    # An HTTP layer whose every request would fail loudly: none may be sent.
    http = PlatformHttp(environ={"GETKEY_LIGHTSPEED_S_API_URL": "http://127.0.0.1:9"})
    result = FLOW.run_verify({}, http)
    assert result.failure is Failure.NOT_VERIFIABLE and FLOW.name in result.detail
    assert FLOW.check({}).ok


def test_found_by_its_names():
    for name in ("lightspeed-s", "Lightspeed S-Series", "s-series", "ShopKeep"):
        assert catalog.get(name) is FLOW


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.one_of(st.none(), st.text(max_size=50))))
def test_every_documented_shape_passes_check(pasted):
    """S-Series has no API credential (the source guide: export only): check() never
    refuses anything, whatever a renderer hands it."""
    assert FLOW.check(pasted).ok
