"""The terminal commands: `getkey platforms`, `getkey guide <platform>`,
`getkey verify <platform>`.

Every line printed after a secret was read is scrubbed of it (render_result), on top of the
flows' promise never to echo one.
"""

from __future__ import annotations

import json
import sys
from getpass import getpass
from typing import TextIO

from bot.cli.prompt import GiveUp, Prompter, collect
from bot.cli.render import (
    out,
    platform_record,
    render_guide,
    render_result,
    safe_streams,
    wrap,
)
from bot.errors import UsageError
from flows import catalog
from flows.base import Failure, Flow, VerifyResult
from flows.http import PlatformHttp


def _unknown(name: str) -> Exception:
    family = catalog.family(name)
    if family is not None:
        intro, editions = family
        lines = [f"  getkey guide {f.id}   {f.edition}: {f.recognise}" for f in editions]
        return UsageError("\n".join([intro.replace("*", ""), *lines]).replace("*", ""))
    close = [f.id for f in catalog.suggest(name)]
    if close:
        return UsageError(f"unknown platform '{name}'; did you mean: {', '.join(close)}?")
    return UsageError(f"unknown platform '{name}'; run 'getkey platforms' to see the list")


def _flow(name: str) -> Flow:
    flow = catalog.get(name)
    if flow is None:
        raise _unknown(name)
    return flow


def cmd_platforms(as_json: bool = False) -> int:
    safe_streams()
    flows = catalog.all_flows()
    if as_json:
        out(json.dumps([platform_record(f) for f in flows], indent=2, ensure_ascii=False))
        return 0
    for flow in flows:
        out(f"{flow.id}  ({flow.name})")
        if flow.aliases:
            out(wrap(", ".join(flow.aliases), "    ", "    also: "))
        if flow.fields:
            parts = [f.label + (" [secret]" if f.secret else "") for f in flow.fields]
            out(wrap("; ".join(parts), "    ", "    collects: "))
        else:
            out("    collects: nothing (a guide only)")
        check = "verified live" if flow.verifiable else "no API key to verify"
        out(f"    {check}; rotation reminder every {flow.rotation_days} days")
    out()
    out("Details: getkey guide <platform>    Try a credential: getkey verify <platform>")
    return 0


def cmd_guide(platform: str) -> int:
    safe_streams()
    out(render_guide(_flow(platform)))
    return 0


def cmd_verify(
    platform: str,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    http: PlatformHttp | None = None,
) -> int:
    safe_streams()
    flow = _flow(platform)
    stream = stdout or sys.stdout
    if not flow.verifiable:
        gone = VerifyResult.failed(Failure.NOT_VERIFIABLE, f"{flow.name} has no API key.")
        out(render_result(flow, gone), stream)
        return 1
    out(f"Verify {_article(flow.name)} {flow.name} credential. Nothing you type is saved.", stream)
    out(f"Not sure where to find it? Run: getkey guide {flow.id}", stream)
    prompter = Prompter(stdin or sys.stdin, stream, lambda prompt: getpass(prompt))
    try:
        values = collect(flow, prompter)
    except GiveUp as exc:
        out("", stream)
        out(f"Not verified: {exc}", stream)
        return 1
    secrets = [values.get(f.key, "") for f in flow.secret_fields]
    out("", stream)
    out(f"Checking with {flow.name}...", stream)
    if http is None:
        from bot.cli.operator import _settings

        # GETKEY_<ID>_API_URL overrides, from the environment or .env like every command.
        http = PlatformHttp(environ=_settings().platform_env)
    client = http
    try:
        result = flow.run_verify(values, client)
    finally:
        if http is None:
            client.close()
    out(render_result(flow, result, secrets), stream)
    return 0 if result.ok else 1


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
