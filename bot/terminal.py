"""The terminal renderer: `getkey platforms`, `getkey guide <platform>`, `getkey verify <platform>`.

It renders the same flows as the Slack side, only with words and line breaks instead of
blocks. Nothing here knows a platform by name; every fact comes from the flow.

Secrets: a secret is read without echo (getpass on a terminal, a plain line read when stdin
is piped), kept only in memory for the one verification, and never printed: what is shown
goes through `mask`, and every line printed after a secret was read is scrubbed of it too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from getpass import getpass
from typing import Any, TextIO

from flows import catalog
from flows.base import Failure, Field, FieldError, Flow, VerifyResult, mask
from flows.http import PlatformHttp

MAX_ATTEMPTS = 3
MAX_WIDTH = 100

# One place that turns a Failure into terminal wording: a headline and the next step.
# `{name}` / `{id}` are the platform's; the flow's own `detail` (the specific cause) is shown
# between the two.
FAILURE_WORDS: dict[Failure, tuple[str, str]] = {
    Failure.BAD_CREDENTIAL: (
        "{name} rejected the credential.",
        "Copy it again in full, or create a new one (see: getkey guide {id}).",
    ),
    Failure.WRONG_IDENTIFIER: (
        "The credential was accepted, but not for the store or account you named.",
        "Check that every ID you typed comes from the same account as the credential.",
    ),
    Failure.MISSING_PERMISSION: (
        "The credential works but lacks a permission getkey needs.",
        "Create a new one with the permissions listed in: getkey guide {id}",
    ),
    Failure.NO_API_ACCESS: (
        "This {name} account or plan has no API access.",
        "Switch to a plan that includes the API, or ask {name} support to enable it.",
    ),
    Failure.RATE_LIMITED: (
        "{name} is limiting requests right now.",
        "Wait {wait}, then run the same command again.",
    ),
    Failure.UNREACHABLE: (
        "{name} could not be reached.",
        "Check your connection and {name}'s status page, then try again.",
    ),
    Failure.UNEXPECTED: (
        "{name} gave an answer getkey could not make sense of.",
        "Try again in a few minutes; if it keeps happening, report it (never include the key).",
    ),
    Failure.NOT_VERIFIABLE: (
        "{name} has no API key to verify.",
        "Follow the guide instead: getkey guide {id}",
    ),
}


class _GiveUp(Exception):
    """Input ended, or a field was wrong too many times: stop asking, exit 1."""


# -- small output helpers ----------------------------------------------------------------


def _safe_streams() -> None:
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


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(
        _plain(text),
        width=_width(),
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def _unknown(name: str) -> Exception:
    from bot.cli import UsageError

    close = [f.id for f in catalog.suggest(name)]
    if close:
        return UsageError(f"unknown platform '{name}'; did you mean: {', '.join(close)}?")
    return UsageError(f"unknown platform '{name}'; run 'getkey platforms' to see the list")


def _flow(name: str) -> Flow:
    flow = catalog.get(name)
    if flow is None:
        raise _unknown(name)
    return flow


def _field_facts(f: Field) -> str:
    facts = []
    if f.required:
        facts.append("required")
    elif "optional" not in f.label.lower():  # many labels already say so
        facts.append("optional")
    if f.secret:
        facts.append("secret, typed without echo")
    return ", ".join(facts)


def _titled(f: Field) -> str:
    facts = _field_facts(f)
    return f"{f.label} ({facts})" if facts else f.label


# -- getkey platforms ------------------------------------------------------------------


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


def cmd_platforms(as_json: bool = False) -> int:
    _safe_streams()
    flows = catalog.all_flows()
    if as_json:
        _out(json.dumps([platform_record(f) for f in flows], indent=2, ensure_ascii=False))
        return 0
    for flow in flows:
        _out(f"{flow.id}  ({flow.name})")
        if flow.aliases:
            _out(_wrap(", ".join(flow.aliases), "    ", "    also: "))
        if flow.fields:
            parts = [f.label + (" [secret]" if f.secret else "") for f in flow.fields]
            _out(_wrap("; ".join(parts), "    ", "    collects: "))
        else:
            _out("    collects: nothing (a guide only)")
        check = "verified live" if flow.verifiable else "no API key to verify"
        _out(f"    {check}; rotation reminder every {flow.rotation_days} days")
    _out()
    _out("Details: getkey guide <platform>    Try a credential: getkey verify <platform>")
    return 0


# -- getkey guide ----------------------------------------------------------------------


def render_guide(flow: Flow) -> str:
    lines: list[str] = [flow.name, "=" * len(flow.name)]
    if flow.summary:
        lines += [_wrap(flow.summary, ""), ""]
    if flow.steps:
        lines.append("Steps")
        for n, step in enumerate(flow.steps, 1):
            head = f"  {n}. "
            lines.append(_wrap(step.title, " " * len(head), head))
            if step.detail:
                lines.append(_wrap(step.detail, " " * len(head)))
        lines.append("")
    if flow.fields:
        lines.append("What getkey asks for")
        for f in flow.fields:
            lines.append(f"  - {_titled(f)}")
            if f.hint:
                lines.append(_wrap(f.hint, "      "))
            if f.choices:
                for n, (value, label) in enumerate(f.choices, 1):
                    lines.append(f"      {n}) {label}  [{value}]")
            elif f.example:
                example = f.example.replace("\n", " / ")
                lines.append(_wrap(example, "      ", "      e.g. "))
        lines.append("")
    if flow.troubleshooting:
        lines.append("If something goes wrong")
        for t in flow.troubleshooting:
            lines.append(_wrap(t.symptom, "    ", "  - "))
            lines.append(_wrap(t.fix, "    "))
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


def cmd_guide(platform: str) -> int:
    _safe_streams()
    _out(render_guide(_flow(platform)))
    return 0


# -- getkey verify ---------------------------------------------------------------------


class Prompter:
    """Reads answers from a terminal or a pipe. Secrets are never echoed either way."""

    def __init__(self, stdin: TextIO, stdout: TextIO, read_secret: Callable[[str], str]):
        self.stdin = stdin
        self.stdout = stdout
        self.read_secret = read_secret
        self.tty = _isatty(stdin)

    def _line(self) -> str:
        line = self.stdin.readline()
        if not line:
            raise _GiveUp("Input ended before every field was answered.")
        return line.rstrip("\r\n")

    def ask(self, prompt: str, secret: bool) -> str:
        if secret and self.tty:
            try:
                value = self.read_secret(prompt)
            except EOFError:
                raise _GiveUp("Input ended before every field was answered.") from None
            _drop_pending_input(self.stdin)
            return value
        self.stdout.write(prompt)
        self.stdout.flush()
        value = self._line()
        if not self.tty:
            # Piped input is not echoed by a terminal: end the prompt line ourselves, and
            # show what was read (masked for a secret) so a transcript makes sense.
            if not value.strip():
                shown = "(empty)"
            else:
                shown = mask(value) if secret else value
            self.stdout.write(shown + "\n")
            self.stdout.flush()
        return value


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _drop_pending_input(stdin: TextIO) -> None:
    """A multi-line paste into a hidden prompt leaves its other lines queued; they would be
    echoed by the next (visible) prompt. Discard them."""
    try:
        import termios

        termios.tcflush(stdin.fileno(), termios.TCIFLUSH)
    except (ImportError, OSError, ValueError, AttributeError):
        pass


def _read_file_answer(text: str) -> str:
    """`@path` reads a multi-line value from a file (e.g. BigCommerce's credentials .txt)."""
    path = os.path.expanduser(text[1:].strip())
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(64_000)
    except OSError as exc:
        raise FieldError(f"Could not read that file ({exc.strerror or 'unreadable'}).") from None


def _choice_answer(f: Field, text: str) -> str:
    text = text.strip()
    for n, (value, label) in enumerate(f.choices, 1):
        if text in (str(n), value) or text.lower() == label.lower():
            return value
    return text  # run_clean explains what is allowed


def _ask_field(f: Field, p: Prompter, reason: str | None = None) -> str:
    """Ask for one field until its format check passes; return the raw answer."""
    _out("", p.stdout)
    _out(_titled(f), p.stdout)
    if f.hint:
        _out(_wrap(f.hint, "  "), p.stdout)
    if f.choices:
        for n, (value, label) in enumerate(f.choices, 1):
            _out(f"  {n}) {label}  [{value}]", p.stdout)
    elif f.example and not f.secret:
        _out(_wrap(f.example.replace("\n", " / "), "  ", "  e.g. "), p.stdout)
    if f.multiline:
        _out("  To read it from a file, type @ and the file's path.", p.stdout)
    if reason:
        _out(_wrap(reason, "  ", "  ! "), p.stdout)
    if f.choices:
        prompt = f"Choose 1-{len(f.choices)}: "
    elif f.required:
        prompt = f"{f.label}: "
    else:
        short = re.sub(r"\s*\(optional\)", "", f.label, flags=re.I)
        prompt = f"{short} (Enter to skip): "
    for attempt in range(1, MAX_ATTEMPTS + 1):
        raw = p.ask(prompt, f.secret)
        try:
            if f.multiline and raw.strip().startswith("@"):
                raw = _read_file_answer(raw.strip())
            if f.choices:
                raw = _choice_answer(f, raw)
            f.run_clean(raw)
            return raw
        except FieldError as exc:
            left = MAX_ATTEMPTS - attempt
            _out(_wrap(str(exc), "    ", "  ! "), p.stdout)
            if left:
                _out(f"    Try again ({left} {'try' if left == 1 else 'tries'} left).", p.stdout)
    raise _GiveUp(f"Stopped after {MAX_ATTEMPTS} attempts at {f.label}.")


def collect(flow: Flow, p: Prompter) -> dict[str, str]:
    """Every field, format-checked one by one, then together (cross-field checks)."""
    raw = {f.key: _ask_field(f, p) for f in flow.fields}
    for _ in range(MAX_ATTEMPTS):
        checked = flow.check(raw)
        if checked.ok:
            return checked.values
        for key, message in checked.errors.items():
            raw[key] = _ask_field(flow.field(key), p, reason=message)
    checked = flow.check(raw)
    if checked.ok:
        return checked.values
    raise _GiveUp("The answers still do not fit together: " + " ".join(checked.errors.values()))


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


def _wait(seconds: float | None) -> str:
    if seconds is None:
        return "a minute"
    whole = int(seconds + 0.999)
    return f"{whole} second{'s' if whole != 1 else ''}"


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
                lines.append(_wrap(value, " " * 16, f"  {label + ':':<14}"))
        if not result.expires_at:
            lines.append(
                f"  {'Expires:':<14}not set by {flow.name}; getkey would remind you to "
                f"rotate it after {flow.rotation_days} days"
            )
        if result.detail:
            lines.append(_wrap(result.detail, "    ", "  Note: "))
        for w in result.warnings:
            lines.append(_wrap(w, "    ", "  ! "))
    else:
        failure = result.failure or Failure.UNEXPECTED
        head, step = FAILURE_WORDS[failure]
        names = {"name": flow.name, "id": flow.id, "wait": _wait(result.retry_after)}
        lines.append("Not verified: " + head.format(**names))
        if result.detail:
            lines.append(_wrap(result.detail, " " * 16, f"  {'Cause:':<14}"))
        if result.field:
            try:
                label = flow.field(result.field).label
            except KeyError:
                label = result.field
            lines.append(f"  {'Field:':<14}{label}")
        lines.append(_wrap(step.format(**names), " " * 16, f"  {'Next step:':<14}"))
        for w in result.warnings:
            lines.append(_wrap(w, "    ", "  ! "))
    return _scrub("\n".join(lines), secrets)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    # Flows promise never to echo a secret; this makes a broken promise harmless.
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text


def cmd_verify(
    platform: str,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    http: PlatformHttp | None = None,
) -> int:
    _safe_streams()
    flow = _flow(platform)
    out = stdout or sys.stdout
    if not flow.verifiable:
        gone = VerifyResult.failed(Failure.NOT_VERIFIABLE, f"{flow.name} has no API key.")
        _out(render_result(flow, gone), out)
        return 1
    _out(f"Verify {_article(flow.name)} {flow.name} credential. Nothing you type is saved.", out)
    _out(f"Not sure where to find it? Run: getkey guide {flow.id}", out)
    prompter = Prompter(stdin or sys.stdin, out, lambda prompt: getpass(prompt))
    try:
        values = collect(flow, prompter)
    except _GiveUp as exc:
        _out("", out)
        _out(f"Not verified: {exc}", out)
        return 1
    secrets = [values.get(f.key, "") for f in flow.secret_fields]
    _out("", out)
    _out(f"Checking with {flow.name}...", out)
    client = http or PlatformHttp()
    try:
        result = flow.run_verify(values, client)
    finally:
        if http is None:
            client.close()
    _out(render_result(flow, result, secrets), out)
    return 0 if result.ok else 1



def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
