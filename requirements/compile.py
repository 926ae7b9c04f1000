"""Regenerate the locks from pyproject.toml (`make lock`; needs pip-tools, in the dev lock).

- requirements/runtime.txt: what `make run` and a deploy install: the runtime dependencies with
  the `postgres` and `fast` extras, hashed.
- requirements/dev.txt: runtime + dev tools, hashed; `make test` installs it. Every runtime pin
  appears in it unchanged (pip-compile keeps the pins already in an output file).
- requirements.txt: a copy of the runtime lock at the root, where Heroku-style Python buildpacks
  look for it. tests/test_packaging.py fails when it drifts from requirements/runtime.txt.

pip-compile resolves for this machine and drops environment markers, so the markers declared in
pyproject.toml (uvloop and httptools are skipped on Windows) are put back afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"
BUILDPACK = ROOT / "requirements.txt"
BUILDPACK_HEADER = (
    "# Generated from requirements/runtime.txt by `make lock` (Python buildpacks install this).\n"
    "# Edit pyproject.toml, never this file.\n"
)
_COMMON = [
    "--generate-hashes", "--allow-unsafe", "--strip-extras", "--quiet",
    "--no-emit-index-url", "--no-emit-find-links",
]


def declared_markers(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """Package name → environment marker, for every requirement in pyproject that has one."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    markers = {}
    for req in reqs:
        if ";" in req:
            spec, marker = req.split(";", 1)
            name = re.split(r"[\[<>=!~ ]", spec.strip(), maxsplit=1)[0]
            markers[normalise(name)] = marker.strip()
    return markers


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def with_markers(text: str, markers: dict[str, str]) -> str:
    """Put pyproject's markers on the pins that declare one, written the same way in every
    lock (a pin taken over from a constraint file comes back with pip's spelling of it)."""

    def put_back(match: re.Match[str]) -> str:
        line = match.group(0)
        marker = markers.get(normalise(match.group(1)))
        if not marker:
            return line
        pin, sep, rest = line.partition(" \\")
        return f"{pin.split(';')[0].rstrip()} ; {marker}{sep}{rest}"

    return re.sub(r"^([A-Za-z0-9_.-]+)==.*$", put_back, text, flags=re.M)


def pins(text: str) -> dict[str, str]:
    """Package name → the whole requirement (version, marker, hashes) of a hashed lock."""
    out: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if re.match(r"^[A-Za-z0-9]", line):
            name = normalise(line.split("==", 1)[0])
            out[name] = line.rstrip(" \\")
        elif name and line.strip().startswith("--hash="):
            out[name] += " " + line.strip().rstrip(" \\")
        else:
            name = None
    return out


def buildpack_text(runtime_text: str) -> str:
    return BUILDPACK_HEADER + runtime_text


def _compile(output: Path, extras: list[str], extra_args: list[str]) -> None:
    cmd = [sys.executable, "-m", "piptools", "compile", *_COMMON, *extras, *extra_args,
           "-o", str(output), "pyproject.toml", "requirements/build.in"]
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "make lock"}  # the header's "regenerate"
    subprocess.run(cmd, cwd=ROOT, check=True, env=env)  # noqa: S603 - our own fixed command
    output.write_text(with_markers(output.read_text(), declared_markers()))


def main(argv: list[str]) -> int:
    _compile(RUNTIME, ["--extra", "postgres", "--extra", "fast"], argv)
    # The runtime pins constrain the dev lock, so both install the same versions.
    _compile(DEV, ["--all-extras", "-c", "requirements/runtime.txt"], argv)
    BUILDPACK.write_text(buildpack_text(RUNTIME.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
