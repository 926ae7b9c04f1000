"""The architecture, enforced: which layer may import which, no import loop (imports inside
functions and under TYPE_CHECKING count: they are dependencies all the same), no module over 400
lines and no function over 60 in bot/ and flows/, and the environment read in one place.

The layers, bottom to top (README "Layout"); each may import only the layers listed for it
(and itself):

    flows       nothing of bot/
    ground      bot.settings, clock, errors, logs, workers, wording, vocabulary, webhook_urls,
                keyfile, settings_help, logsetup, metrics, redaction: flows
    store       bot.store: ground, flows
    services    bot.services: store, ground, flows
    slack       bot.slack adapters (client, messenger, directory, oauth, ui/): services, store,
                ground, flows
    jobs        bot.jobs: slack (to deliver and render), services, store, ground, flows
    runtime     bot.runtime, the composition root: jobs, slack, services, store, ground, flows
    slack-app   bot.slack.app and bot.slack.listeners: runtime and everything below it
    http        bot.http: slack-app and everything below it
    cli         bot.cli: everything

A module that fits no layer (a new top-level module of bot/) fails the test until it is given
one here and in the README.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 400
MAX_FUNCTION_LINES = 60

GROUND = frozenset(
    f"bot.{m}"
    for m in (
        "settings", "clock", "errors", "logs", "workers", "wording", "vocabulary", "webhook_urls",
        "keyfile", "settings_help", "logsetup", "metrics", "redaction",
    )
) | {"bot"}
BELOW = ("flows", "ground", "store", "services", "slack", "jobs", "runtime", "slack-app", "http")
MAY_IMPORT: dict[str, frozenset[str]] = {
    "flows": frozenset(),
    "ground": frozenset({"flows"}),
    "store": frozenset({"ground", "flows"}),
    "services": frozenset({"store", "ground", "flows"}),
    "slack": frozenset({"services", "store", "ground", "flows"}),
    "jobs": frozenset({"slack", "services", "store", "ground", "flows"}),
    "runtime": frozenset({"jobs", "slack", "services", "store", "ground", "flows"}),
    "slack-app": frozenset(BELOW[: BELOW.index("runtime") + 1]),
    "http": frozenset(BELOW[: BELOW.index("slack-app") + 1]),
    "cli": frozenset(BELOW),
}
def layer_of(module: str) -> str | None:
    if module == "flows" or module.startswith("flows."):
        return "flows"
    if module in GROUND:
        return "ground"
    if module == "bot.runtime":
        return "runtime"
    if module in ("bot.slack.app", "bot.slack.listeners") or module.startswith(
        "bot.slack.listeners."
    ):
        return "slack-app"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("store", "services", "slack", "jobs", "http", "cli"):
        return parts[1]
    return None


def modules(root: Path, packages: Iterable[str] = ("bot", "flows")) -> dict[str, Path]:
    """Dotted name → file, for every module under `root`/<package> (migrations excluded:
    Alembic loads them by path, and they describe history rather than the code)."""
    found = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module of `known` that `path` imports anywhere: module level, inside functions,
    under TYPE_CHECKING."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & known
            # `from package import submodule` needs the submodule, not the whole package.
            if len(subs) < len(node.names):
                out.add(base)
            out.update(subs)
    return {m for m in out if m in known and m != name}


def graph(root: Path) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports(path, name, set(found)) for name, path in found.items()}


def breaches(deps: dict[str, set[str]]) -> list[str]:
    """`a → b` for every import that goes up or sideways, and every module with no layer."""
    out = []
    for module, targets in sorted(deps.items()):
        layer = layer_of(module)
        if layer is None:
            out.append(f"{module} belongs to no layer")
            continue
        for target in sorted(targets):
            other = layer_of(target)
            if other != layer and other not in MAY_IMPORT[layer]:
                out.append(f"{module} ({layer}) → {target} ({other})")
    return out


def loops(deps: dict[str, set[str]]) -> list[list[str]]:
    """The import loops: strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(deps.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return found


def too_long(
    root: Path, packages: Iterable[str] = ("bot",), functions_in: Iterable[str] = ()
) -> list[str]:
    """Modules of `packages` over MAX_LINES, and functions of `packages` and `functions_in`
    over MAX_FUNCTION_LINES (from `def` to its last line, nested functions included), as
    `path` or `path:function`."""
    out = []
    whole = set(modules(root, packages).values())
    for path in sorted(whole | set(modules(root, functions_in).values())):
        where = str(path.relative_to(root))
        text = path.read_text()
        if path in whole and len(text.splitlines()) > MAX_LINES:
            out.append(where)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES:
                    out.append(f"{where}:{node.name}")
    return out


# -- the repository ------------------------------------------------------------------------


def test_every_import_goes_down_the_layers():
    assert breaches(graph(REPO)) == []


def test_no_import_loop_even_through_imports_inside_functions():
    assert loops(graph(REPO)) == []


def test_no_module_or_function_is_too_long_to_read_in_one_sitting():
    # A platform that outgrows one module becomes a package flows/<id>/ (see bigcommerce).
    assert too_long(REPO, ("bot", "flows")) == []


def test_only_the_settings_module_reads_the_environment():
    readers = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|environ\.get\(\"")
    offenders = [
        str(p.relative_to(REPO))
        for p in modules(REPO, ("bot",)).values()
        if p.name != "settings.py" and readers.search(p.read_text())
    ]
    assert offenders == []


# -- the checker itself, on a made-up tree ---------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in ("bot", "flows"):
        (root / package).mkdir(exist_ok=True)
    return root


CLEAN = {
    "bot/__init__.py": "",
    "bot/clock.py": "import datetime\n",
    "bot/store/__init__.py": "from bot.store.db import Store\n",
    "bot/store/db.py": "from bot.clock import datetime\n",
    "bot/services/__init__.py": "",
    "bot/services/keys.py": "from bot.store import Store\n",
    "bot/slack/__init__.py": "",
    "bot/slack/listeners/__init__.py": "",
    "bot/slack/listeners/keys.py": (
        "from bot.services import keys\n\n\ndef later():\n    from bot.runtime import Runtime\n"
    ),
    "bot/runtime.py": "from bot.services.keys import Store\n",
    "flows/__init__.py": "",
}


def test_the_checker_passes_a_tree_that_keeps_the_rules(tmp_path: Path):
    root = _tree(tmp_path, CLEAN)
    deps = graph(root)
    assert deps["bot.slack.listeners.keys"] == {"bot.services.keys", "bot.runtime"}
    assert breaches(deps) == [] and loops(deps) == [] and too_long(root) == []


def test_the_checker_finds_a_loop_hidden_inside_a_function(tmp_path: Path):
    root = _tree(
        tmp_path,
        {**CLEAN, "bot/store/db.py": "def late():\n    from bot.store import Store\n"},
    )
    assert loops(graph(root)) == [["bot.store", "bot.store.db"]]


def test_the_checker_finds_an_import_that_goes_up(tmp_path: Path):
    root = _tree(
        tmp_path,
        {
            **CLEAN,
            "bot/services/keys.py": "from bot.slack import listeners\n",
            "flows/wix.py": "if False:\n    import bot.clock\n",
        },
    )
    assert breaches(graph(root)) == [
        "bot.services.keys (services) → bot.slack.listeners (slack-app)",
        "flows.wix (flows) → bot.clock (ground)",
    ]


def test_the_checker_wants_every_module_in_a_layer(tmp_path: Path):
    root = _tree(tmp_path, {**CLEAN, "bot/helpers.py": ""})
    assert breaches(graph(root)) == ["bot.helpers belongs to no layer"]


def test_the_checker_finds_long_modules_and_functions(tmp_path: Path):
    fine = "def fine():\n" + "    pass\n" * (MAX_FUNCTION_LINES - 1)
    big = "async def big():\n" + "    pass\n" * MAX_FUNCTION_LINES
    root = _tree(
        tmp_path,
        {
            **CLEAN,
            "bot/store/long.py": "x = 1\n" * (MAX_LINES + 1),
            "bot/store/fits.py": "x = 1\n" * MAX_LINES,
            "bot/services/big.py": fine + big,
        },
    )
    assert too_long(root) == ["bot/services/big.py:big", "bot/store/long.py"]


@pytest.mark.parametrize("module", ["bot.cli.main", "bot.http.edge", "bot.slack.ui.form"])
def test_every_layer_name_is_known(module: str):
    assert layer_of(module) in MAY_IMPORT
