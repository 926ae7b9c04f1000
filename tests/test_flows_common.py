"""What every platform flow must do, run against every platform's local server."""

from __future__ import annotations

import ast
import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flows
from flows import catalog
from flows.base import Failure, Field, FieldError, Purpose
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


FLOWS_DIR = Path(flows.__file__).resolve().parent
TESTS_DIR = Path(__file__).resolve().parent
_INFRA_MODULES = {"__init__", "base", "budget", "catalog", "cleaning", "http", "oauth1",
                  "outcomes", "purpose", "recent", "store_url", "testing"}


def _platform_modules() -> list[str]:
    """flows/<id>.py, or a package flows/<id>/ for a platform too long for one module."""
    found = [p.stem for p in FLOWS_DIR.glob("*.py")]
    found += [p.parent.name for p in FLOWS_DIR.glob("*/__init__.py")]
    return sorted(m for m in found if m not in _INFRA_MODULES and not m.startswith("_"))


def test_every_platform_module_is_in_the_catalogue_with_its_tests():
    """Whatever is in flows/ is a platform, and each one comes with its tests: a local stand-in
    server (when it can be verified) and a tests/test_flow_<module>.py."""
    modules = _platform_modules()
    assert modules, "no platform modules found"
    by_module = {f.id.replace("-", "_"): f for f in catalog.all_flows()}
    assert sorted(by_module) == modules
    for module, flow in by_module.items():
        assert (TESTS_DIR / f"test_flow_{module}.py").is_file(), f"tests for {flow.id}"
        if flow.verifiable:
            assert (TESTS_DIR / "platforms" / f"{module}.py").is_file(), f"server for {flow.id}"
            server_mod = platform_module(flow.id)
            assert server_mod.SERVER.flow_id == flow.id
            assert callable(getattr(server_mod, "missing_permission_values", None)), flow.id


def _imports(path: Path) -> set[str]:
    """Every flows.* module `path` imports, TYPE_CHECKING blocks included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flows."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("flows.")}
    return found


def test_flows_modules_import_each_other_without_a_loop():
    # A platform package counts as one module: its parts may import each other.
    graph: dict[str, set[str]] = {}
    for path in FLOWS_DIR.rglob("*.py"):
        top = path.relative_to(FLOWS_DIR).parts[0].removesuffix(".py")
        graph.setdefault(top, set()).update(_imports(path) - {top})

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    loops = sorted(m for m in graph if reaches(m, m, {m}))
    assert loops == [], f"import loop through {loops}"


@pytest.fixture(params=VERIFIABLE)
def started(request):
    flow = catalog.get(request.param)
    mod = platform_module(flow.id)
    with mod.SERVER() as server:
        yield flow, mod, server


def test_missing_permission_result_names_the_store(started):
    """"Works for *Acme Shop*, but lacks …": a result that says a permission is missing also
    says which store or account the credential belongs to."""
    flow, mod, server = started
    for values in mod.missing_permission_values():
        checked = flow.check(values)
        assert checked.ok, checked.errors
        result = flow.run_verify(checked.values, http_for(server))
        assert result.failure is Failure.MISSING_PERMISSION, (flow.id, result)
        assert result.store_name or result.account, (flow.id, result)


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
    # Only the timeout fault is about time; the others get room for a loaded machine.
    result = flow.run_verify(values, http_for(server, total_timeout=0.5) if fault == "timeout"
                             else http_for(server))
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
        # How to take the key back on the platform, shown when a key is deleted or done.
        assert flow.revoke_steps, f"{flow.id} has no revocation steps"
        assert all(s.title and s.detail for s in flow.revoke_steps), flow.id
        assert flow.rotation_days > 0
        if flow.verifiable:
            assert flow.fields and flow.hosts and any(f.secret for f in flow.fields), flow.id
        for f in flow.fields:
            assert f.label and len(f.label) <= 75 and f.max_length <= 3000


ALL_FIELDS = [(flow.id, f.key) for flow in catalog.all_flows() for f in flow.fields]


def _accepted_properties(f: Field, text: str) -> None:
    """What must hold for any paste: only a FieldError that does not echo the paste, or a
    clean value within the platform's format (`Field.shape`)."""
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
    # An empty result of an optional field means "not given"; anything else must be a value
    # the platform could accept, or the person learns of the mistake only at verification.
    if f.shape and (cleaned or f.required):
        assert re.fullmatch(f.shape, cleaned), (f.key, f.shape)


@pytest.mark.parametrize(("flow_id", "key"), ALL_FIELDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_field_checks_never_crash(flow_id, key, text):
    _accepted_properties(catalog.get(flow_id).field(key), text)


# -- near-valid pastes --------------------------------------------------------------------
# Good values for optional fields that good_values() leaves empty.
def _extra_good() -> dict[tuple[str, str], str]:
    from tests.platforms import bigcommerce

    next_year = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    return {
        ("wix", "site_id"): "9f8e7d6c-1234-5678-9abc-1234567890ab",
        ("bigcommerce", "credentials_file"): bigcommerce.credentials_file(),
        ("lightspeed-x", "expires_on"): next_year,
    }


# Fields whose cleaner consumes the paste into something else (see the field's comment).
CONSUMED = {("bigcommerce", "credentials_file")}


def _good_samples() -> list[tuple[str, str, str]]:
    extra = _extra_good()
    samples = []
    for flow in catalog.all_flows():
        if not flow.verifiable:
            continue
        mod = platform_module(flow.id)
        # A stand-in may name good values for fields its good_values() leaves empty (an
        # alternative way in, such as a legacy token beside a client pair).
        good, other = mod.good_values(), getattr(mod, "alternative_good_values", dict)()
        for f in flow.fields:
            value = good.get(f.key) or other.get(f.key) or extra.get((flow.id, f.key), "")
            samples.append((flow.id, f.key, value))
    return samples


GOOD = _good_samples()

_WRAPPERS = [" ", "\n", "\t", "\r\n", '"', "'", "`", "```", "“", "”", "‘", "\u200b", "\u00a0",
             "\ufeff", "<", ">", "(", ")", "[", "]", ",", ";", ".", ":"]
_PREFIXES = ["Bearer ", "bearer ", "Authorization: Bearer ", "Authorization: ", "token=",
             "ACCESS TOKEN: ", "X-Auth-Token: ", "export API_KEY=", "id: ", "#", "Store ID ",
             "IST.", "JWS.", "secret_", "public_", "secure_", "lsh_live_", "lsh_test_", "lsh_",
             "LSH_", "lsxs_pt_", "lsxs_", "eyJ", "def50", "shpat_", "ck_", "sk_", "store-",
             "https://", "www.", "{", "["]
_URLS = [
    "https://example.com/{v}", "https://{v}", "http://{v}/", "www.{v}.com",
    "https://api.bigcommerce.com/stores/{v}/v3/", "https://store-{v}.mybigcommerce.com/manage",
    "API PATH: https://api.bigcommerce.com/stores/{v}/v3/",
    "https://app.ecwid.com/api/v3/{v}/profile", "https://my.ecwid.com/store/{v}#develop-apps",
    "https://store{v}.company.site/", "https://{v}.retail.lightspeed.app/setup",
    "https://{v}.vendhq.com", "https://lightyshare.com/api/product/1?token={v}",
    "https://myshop.com/{v}/", "https://shop.webshopapp.com/{v}/",
    "https://manage.wix.com/dashboard/{v}/home",
    # A stray "[" after the scheme reads as an unclosed IPv6 host to urllib.
    "https://[{v}]/", "https://[{v}/", "https://[shop.shoplightspeed.com/{v}/",
    "http://{v}:99999/",
    '{{"access_token": "{v}"}}', '{{"refresh_token": "{v}", "access_token": "{v}"}}',
]

Mutation = Callable[[str, st.DrawFn], str]


def _wrap(v: str, draw: st.DrawFn) -> str:
    left = draw(st.lists(st.sampled_from(_WRAPPERS), max_size=3))
    right = draw(st.lists(st.sampled_from(_WRAPPERS), max_size=3))
    return "".join(left) + v + "".join(right)


def _insert(chars: st.SearchStrategy[str]) -> Mutation:
    def mutate(v: str, draw: st.DrawFn) -> str:
        at = draw(st.integers(0, len(v)))
        return v[:at] + draw(chars) + v[at:]
    return mutate


def _truncate(v: str, draw: st.DrawFn) -> str:
    cut = draw(st.integers(0, len(v)))
    return v[:cut] if draw(st.booleans()) else v[cut:]


def _prefix(v: str, draw: st.DrawFn) -> str:
    new = draw(st.sampled_from(_PREFIXES))
    # Either put it in front, or let it replace the value's own start (a wrong token type).
    return new + v[draw(st.integers(0, min(len(v), 12))) if draw(st.booleans()) else 0:]


def _urls_for(flow_id: str) -> list[str]:
    """Every address template, the platform's own first (hypothesis favours early entries):
    its addresses are the ones its cleaner pulls values out of."""
    domains = {".".join(h.split(".")[-2:]) for h in catalog.get(flow_id).hosts}
    own = [u for u in _URLS if any(d in u for d in domains)]
    return own + [u for u in _URLS if u not in own]


def _in_url(flow_id: str) -> Mutation:
    urls = _urls_for(flow_id)

    def mutate(v: str, draw: st.DrawFn) -> str:
        return draw(st.sampled_from(urls)).format(v=v)
    return mutate


def _case(v: str, draw: st.DrawFn) -> str:
    return draw(st.sampled_from([str.upper, str.lower, str.swapcase, str.title]))(v)


def _repeat(v: str, draw: st.DrawFn) -> str:
    return v + draw(st.sampled_from(["", " ", "\n", ":", ","])) + v


def _replace_char(v: str, draw: st.DrawFn) -> str:
    if not v:
        return v
    at = draw(st.integers(0, len(v) - 1))
    return v[:at] + draw(st.characters()) + v[at + 1:]


def _pad(v: str, draw: st.DrawFn) -> str:
    # More of the same kind of characters: two IDs run together, a neighbouring digit.
    return v + draw(st.text(alphabet=st.sampled_from(v or "x"), min_size=1, max_size=40))


# Mistakes inside the value. Hypothesis favours the first entries: length mistakes lead, as
# the ones that code extracting a value from an address tends to let through.
MUTATIONS: list[Mutation] = [
    _pad,
    _truncate,
    _insert(st.sampled_from([" ", "\n", "\r\n", "\t", " \n ", "\u200b"])),
    _insert(st.text(min_size=1, max_size=3)),
    _insert(st.sampled_from([*"-_.:/=+~#?&%@!$*'\"`…", "...", "٣", "２", "ǅ", "K"])),
    _case,
    _repeat,
    _replace_char,
]


# ...and around it, applied last as a paste would (see _framings): a URL twice as often as
# the others, because addresses are where extraction code (and its bugs) lives.
def _framings(flow_id: str) -> list[Mutation | None]:
    in_url = _in_url(flow_id)
    return [in_url, _wrap, _prefix, in_url, None, None]


@st.composite
def near_valid(draw: st.DrawFn, flow_id: str, good: str) -> str:
    """A good value after up to two of the mistakes copying makes, then perhaps a frame."""
    value = good
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=2)):
        value = mutate(value, draw)
    frame = draw(st.sampled_from(_framings(flow_id)))
    if frame is None and value == good:
        frame = _wrap
    return frame(value, draw) if frame else value


# Per field, so that every field gets its share and xdist can spread the work. The ids
# name the field, never the (fake but secret-looking) value.
GOOD_IDS = [f"{flow_id}-{key}" for flow_id, key, _ in GOOD]


@pytest.mark.parametrize(("flow_id", "key", "good"), GOOD, ids=GOOD_IDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_near_valid_pastes_are_cleaned_or_refused_never_mangled(flow_id, key, good, data):
    text = data.draw(near_valid(flow_id, good), label="paste")
    _accepted_properties(catalog.get(flow_id).field(key), text)


@pytest.mark.parametrize(("flow_id", "key", "good"), GOOD, ids=GOOD_IDS)
def test_good_value_is_accepted_unchanged(flow_id, key, good):
    f = catalog.get(flow_id).field(key)
    assert good, f"{flow_id}: give {key} a good sample (see _good_samples)"
    cleaned = f.run_clean(good)
    if (flow_id, key) not in CONSUMED:
        assert cleaned == good
    if f.shape:
        assert re.fullmatch(f.shape, cleaned)


def _deeply_nested(good: str) -> list[str]:
    depth = 1400  # past the JSON decoder's default depth, within every length limit
    parts = good.split(".")
    pastes = ['{"access_token":' + "[" * depth + "]" * depth + "}", "[" * depth, "{" * depth]
    if good.startswith("eyJ") and len(parts) == 3:
        payload = base64.urlsafe_b64encode(b"[" * depth).decode().rstrip("=")
        pastes.append(f"{parts[0]}.{payload}.{parts[2]}")
    return pastes


# Not under hypothesis: it raises the recursion limit while a test runs, which would hide
# what a deeply nested paste does to a JSON decoder in production.
@pytest.mark.parametrize(("flow_id", "key", "good"), GOOD, ids=GOOD_IDS)
def test_deeply_nested_json_is_refused_not_a_crash(flow_id, key, good):
    f = catalog.get(flow_id).field(key)
    for text in _deeply_nested(good):
        _accepted_properties(f, text)


def test_every_free_text_field_declares_its_shape():
    # A new platform must state the format of what it collects, or the properties above
    # would silently test nothing for it.
    for flow in catalog.all_flows():
        if not flow.verifiable:
            continue
        for f in flow.fields:
            if not f.choices:
                assert f.shape, f"{flow.id}.{f.key} has no shape"
                re.compile(f.shape)


# -- a family name answers with every edition (issue 18, item 9) --------------------------
def test_lightspeed_family_lists_all_five_editions_with_how_to_recognise_them():
    found = catalog.family("Lightspeed")
    assert found is not None
    intro, editions = found
    assert "ask" in intro
    ids = [f.id for f in editions]
    assert ids == ["lightspeed-ecom", "lightspeed-r", "lightspeed-x", "lightspeed-s", "ecwid"]
    for flow in editions:
        assert flow.edition and len(flow.recognise) > 40, flow.id
    ecwid = editions[-1]
    assert "E-Series" in ecwid.edition and "my.ecwid.com" in ecwid.recognise
    assert "webshopapp.com" in editions[0].recognise
    assert "retail.lightspeed.app" in editions[2].recognise
    assert catalog.family("wix") is None


def test_every_verifiable_flow_says_what_writing_needs_or_that_it_cannot():
    """A key for an import is either checked against the platform's write permissions or the
    result says plainly that they could not be checked; never silently passed."""
    for flow in catalog.all_flows():
        if flow.verifiable:
            assert Purpose.WRITE in flow.needs or flow.purpose_unchecked.get(Purpose.WRITE) \
                or flow.id in _UNCHECKED_BY_DEFAULT, flow.id


# Flows whose write access nobody could check and that rely on the generic sentence.
_UNCHECKED_BY_DEFAULT: frozenset[str] = frozenset()


def test_good_credential_for_writing_is_judged_honestly(started):
    """Verified for writing, the stand-in's good key is accepted, refused for named write
    permissions, or accepted with a sentence saying writing could not be checked."""
    flow, mod, server = started
    values = flow.check(mod.good_values()).values
    result = flow.run_verify(values, http_for(server), purpose=Purpose.WRITE)
    if Purpose.WRITE not in flow.needs:
        assert result.ok and len(result.warnings) > len(
            flow.run_verify(values, http_for(server)).warnings), flow.id
    elif not result.ok:
        assert result.failure is Failure.MISSING_PERMISSION, (flow.id, result)
        assert set(result.missing) & set(flow.needs[Purpose.WRITE]), flow.id
        assert all(m in result.detail for m in result.missing
                   if m in flow.needs[Purpose.WRITE]), flow.id
