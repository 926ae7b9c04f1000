"""The shape issue 8 asked for, kept: no import loop in bot/, no module past ~400 lines, and
settings read from the environment in one place only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in BOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _runtime_imports(path: Path, known: set[str]) -> set[str]:
    """Modules of bot/ imported when `path` is imported (module level, outside TYPE_CHECKING;
    imports inside functions run later and cannot make a loop at import time)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                subs = {f"{node.module}.{a.name}" for a in node.names} & known
                # `from package import submodule` needs the submodule, not the whole package.
                if len(subs) < len(node.names):
                    out.add(node.module)
                out.update(subs)
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(getattr(node, "orelse", []))

    visit(tree.body)
    return {m for m in out if m in known}


def test_bot_modules_import_each_other_without_a_loop():
    modules = _modules()
    graph = {name: _runtime_imports(path, set(modules)) - {name} for name, path in modules.items()}

    def reaches(start: str, goal: str, seen: frozenset[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    # A package importing its own submodules is how packages work, not a loop.
    loops = sorted(
        m for m in graph if reaches(m, m, frozenset({m})) and not m.endswith("__init__")
    )
    assert loops == [], f"import loop through {loops}"


def test_no_module_is_too_long_to_read_in_one_sitting():
    long = {
        str(p.relative_to(BOT.parent)): n
        for p in _modules().values()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_the_settings_module_reads_the_environment():
    readers = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|environ\.get\(\"")
    offenders = [
        str(p.relative_to(BOT.parent))
        for p in _modules().values()
        if p.name != "settings.py" and readers.search(p.read_text())
    ]
    assert offenders == []
