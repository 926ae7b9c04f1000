"""The platform catalogue: every module in `flows/` that defines `FLOW` is a platform.

Discovery keeps "add a platform" to one new file; nothing else lists platforms by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

import flows
from flows.base import Flow

_INFRA = {
    "base", "budget", "catalog", "cleaning", "http", "oauth1", "outcomes", "purpose", "recent",
    "store_url", "testing",
}


def normalize(name: str) -> str:
    """'Lightspeed  X', 'lightspeed_x' and 'LIGHTSPEED-X' all become 'lightspeed-x'."""
    return re.sub(r"[\s_\-]+", "-", name.strip().lower()).strip("-")


@cache
def all_flows() -> tuple[Flow, ...]:
    found: list[Flow] = []
    for info in pkgutil.iter_modules(flows.__path__):
        if info.name in _INFRA or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"flows.{info.name}")
        flow = getattr(module, "FLOW", None)
        if isinstance(flow, Flow):
            found.append(flow)
    return tuple(sorted(found, key=lambda f: f.name.lower()))


@cache
def _names() -> dict[str, Flow]:
    names: dict[str, Flow] = {}
    for flow in all_flows():
        for name in (flow.id, flow.name, *flow.aliases):
            names.setdefault(normalize(name), flow)
    return names


def get(name: str) -> Flow | None:
    """The flow for an id, display name or alias, tolerant of case and spacing."""
    return _names().get(normalize(name))


def ids() -> list[str]:
    return [f.id for f in all_flows()]


# What renderers say above a family's edition picker. The source guide (seed 000) covers five
# Lightspeed editions and asks owners who cannot tell theirs apart to get in touch.
FAMILIES: dict[str, str] = {
    "lightspeed": (
        "Lightspeed sells five editions, and each one hands out access differently. Pick "
        "yours; if none of these looks like your back office, ask whoever set up your "
        "Lightspeed account, or Lightspeed support, which edition it is."
    ),
}
# The order editions are listed in (the order the source guide presents them).
_EDITION_ORDER = ("eCom (C-Series)", "R-Series", "X-Series", "S-Series", "E-Series (Ecwid)")


def family(name: str) -> tuple[str, tuple[Flow, ...]] | None:
    """For a bare family name ("lightspeed"): the words to show and every edition's flow."""
    key = normalize(name)
    intro = FAMILIES.get(key)
    if intro is None:
        return None
    members = [f for f in all_flows() if f.family == key]
    members.sort(key=lambda f: (
        _EDITION_ORDER.index(f.edition) if f.edition in _EDITION_ORDER else len(_EDITION_ORDER),
        f.name,
    ))
    return intro, tuple(members)


def suggest(name: str, limit: int = 3) -> list[Flow]:
    """Closest platforms for a name that matched nothing ("did you mean")."""
    import difflib  # only for a misspelt name: not in every serving process (issue 21)

    key = normalize(name)
    names = _names()
    close = difflib.get_close_matches(key, list(names), n=limit * 3, cutoff=0.5)
    # Also catch a prefix or fragment ("light", "speed") that difflib scores low.
    close += [n for n in names if key and (key in n or n.startswith(key)) and n not in close]
    result: list[Flow] = []
    for n in close:
        flow = names[n]
        if flow not in result:
            result.append(flow)
    return result[:limit]
