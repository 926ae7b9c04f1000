"""Asking for a flow's fields in a terminal or from a pipe.

Secrets: a secret is read without echo (getpass on a terminal, a plain line read when stdin
is piped), kept only in memory for the one verification, and never printed: what is shown
goes through `mask`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TextIO

from bot.cli.render import out, titled, wrap
from flows.base import Field, FieldError, Flow, mask

MAX_ATTEMPTS = 3


class GiveUp(Exception):
    """Input ended, or a field was wrong too many times: stop asking, exit 1."""


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
            raise GiveUp("Input ended before every field was answered.")
        return line.rstrip("\r\n")

    def ask(self, prompt: str, secret: bool) -> str:
        if secret and self.tty:
            try:
                value = self.read_secret(prompt)
            except EOFError:
                raise GiveUp("Input ended before every field was answered.") from None
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
    out("", p.stdout)
    out(titled(f), p.stdout)
    if f.hint:
        out(wrap(f.hint, "  "), p.stdout)
    if f.choices:
        for n, (value, label) in enumerate(f.choices, 1):
            out(f"  {n}) {label}  [{value}]", p.stdout)
    elif f.example and not f.secret:
        out(wrap(f.example.replace("\n", " / "), "  ", "  e.g. "), p.stdout)
    if f.multiline:
        out("  To read it from a file, type @ and the file's path.", p.stdout)
    if reason:
        out(wrap(reason, "  ", "  ! "), p.stdout)
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
            out(wrap(str(exc), "    ", "  ! "), p.stdout)
            if left:
                out(f"    Try again ({left} {'try' if left == 1 else 'tries'} left).", p.stdout)
    raise GiveUp(f"Stopped after {MAX_ATTEMPTS} attempts at {f.label}.")


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
    raise GiveUp("The answers still do not fit together: " + " ".join(checked.errors.values()))

