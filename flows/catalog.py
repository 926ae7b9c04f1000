"""The platform catalogue: every module in `flows/` that defines `FLOW` is a platform.

Discovery keeps "add a platform" to one new file; nothing else lists platforms by hand.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from functools import cache

import flows
from flows.base import Flow

_INFRA = {"base", "catalog", "cleaning", "http", "oauth1", "outcomes", "store_url", "testing"}


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


def suggest(name: str, limit: int = 3) -> list[Flow]:
    """Closest platforms for a name that matched nothing ("did you mean")."""
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
