"""Terminal rendering: the same flows as the Slack side, in words and line breaks instead of
blocks. Failure wording comes from bot.wording, shared with Slack. Nothing here knows a
platform by name; every fact comes from the flow.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot import wording
from bot.wording import TERMINAL
from flows.base import Field, Flow, VerifyResult, mask

MAX_WIDTH = 100


def safe_streams() -> None:
    # A pipe with a narrow encoding must not turn "›" or "•" into a traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def _width() -> int:
    return max(40, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


def _plain(text: str) -> str:
    """Flow texts use Slack's *bold*; a terminal shows the words without the asterisks."""
    return re.sub(r"\*([^*\n]+)\*", r"\1", text)


def wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(
        _plain(text),
        width=_width(),
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def _field_facts(f: Field) -> str:
    facts = []
    if f.required:
        facts.append("required")
    elif "optional" not in f.label.lower():  # many labels already say so
        facts.append("optional")
    if f.secret:
        facts.append("secret, typed without echo")
    return ", ".join(facts)


def titled(f: Field) -> str:
    facts = _field_facts(f)
    return f"{f.label} ({facts})" if facts else f.label


def platform_record(flow: Flow) -> dict[str, Any]:
    """The stable, machine-readable description behind `platforms --json`."""
    return {
        "id": flow.id,
        "name": flow.name,
        "aliases": list(flow.aliases),
        "summary": flow.summary,
        "fields": [
            {"key": f.key, "label": f.label, "required": f.required, "secret": f.secret}
            for f in flow.fields
        ],
        "verifiable": flow.verifiable,
        "rotation_days": flow.rotation_days,
    }



def render_guide(flow: Flow) -> str:
    lines: list[str] = [flow.name, "=" * len(flow.name)]
    if flow.summary:
        lines += [wrap(flow.summary, ""), ""]
    if flow.steps:
        lines.append("Steps")
        for n, step in enumerate(flow.steps, 1):
            head = f"  {n}. "
            lines.append(wrap(step.title, " " * len(head), head))
            if step.detail:
                lines.append(wrap(step.detail, " " * len(head)))
        lines.append("")
    if flow.fields:
        lines.append("What getkey asks for")
        for f in flow.fields:
            lines.append(f"  - {titled(f)}")
            if f.hint:
                lines.append(wrap(f.hint, "      "))
            if f.choices:
                for n, (value, label) in enumerate(f.choices, 1):
                    lines.append(f"      {n}) {label}  [{value}]")
            elif f.example:
                example = f.example.replace("\n", " / ")
                lines.append(wrap(example, "      ", "      e.g. "))
        lines.append("")
    if flow.troubleshooting:
        lines.append("If something goes wrong")
        for t in flow.troubleshooting:
            lines.append(wrap(t.symptom, "    ", "  - "))
            lines.append(wrap(t.fix, "    "))
        lines.append("")
    if flow.verifiable:
        lines.append(
            f"Rotation: getkey reminds you to replace the credential every "
            f"{flow.rotation_days} days."
        )
        lines.append(f"Try it: getkey verify {flow.id}")
    else:
        lines.append(f"{flow.name} has no API key, so there is nothing to verify or rotate.")
    return "\n".join(lines)


def _when(expires_at: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    days = (expires_at - now).total_seconds() / 86400
    stamp = expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if days < 0:
        return f"{stamp} (already expired)"
    if days < 1:
        return f"{stamp} (within a day)"
    return f"{stamp} (in {int(days)} days)"



def render_result(flow: Flow, result: VerifyResult, secrets: Iterable[str] = ()) -> str:
    lines: list[str] = []
    if result.ok:
        lines.append(f"Verified: {flow.name} accepted the credential.")
        found = [
            ("Store", result.store_name),
            ("Store URL", result.store_url),
            ("Account", result.account),
            ("Environment", result.environment),
            ("Permissions", ", ".join(result.granted)),
            ("Missing", ", ".join(result.missing)),
            ("Expires", _when(result.expires_at) if result.expires_at else None),
        ]
        for label, value in found:
            if value:
                lines.append(wrap(value, " " * 16, f"  {label + ':':<14}"))
        if not result.expires_at:
            lines.append(
                f"  {'Expires:':<14}not set by {flow.name}; getkey would remind you to "
                f"rotate it after {flow.rotation_days} days"
            )
        if result.missing:
            lacks = wording.lacks_sentence(wording.found_store(result), result.missing, TERMINAL)
            lines.append(wrap(lacks, "    ", "  ! "))
        if result.detail:
            lines.append(wrap(result.detail, "    ", "  Note: "))
        for w in result.warnings:
            lines.append(wrap(w, "    ", "  ! "))
    else:
        head, step = wording.failure_words(flow, result, TERMINAL)
        lines.append(f"Not verified: {head}.")
        if result.detail:
            lines.append(wrap(result.detail, " " * 16, f"  {'Cause:':<14}"))
        if result.field:
            try:
                label = flow.field(result.field).label
            except KeyError:
                label = result.field
            lines.append(f"  {'Field:':<14}{label}")
        lines.append(wrap(step, " " * 16, f"  {'Next step:':<14}"))
        for w in result.warnings:
            lines.append(wrap(w, "    ", "  ! "))
    return scrub("\n".join(lines), secrets)


def scrub(text: str, secrets: Iterable[str]) -> str:
    # Flows promise never to echo a secret; this makes a broken promise harmless.
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text

