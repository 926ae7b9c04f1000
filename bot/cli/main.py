"""The `getkey` console script. Each command lives with the code it drives; this module only
parses arguments and turns known failures into one clear line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence

from bot.errors import UsageError


def _description() -> str:
    from flows import catalog

    ids = ", ".join(f.id for f in catalog.all_flows())
    paragraphs = (
        "getkey walks people in Slack to a verified, encrypted, reminded API key for their "
        "store, and lets operators and tools work with the keys.",
        f"Platforms (PLATFORM): {ids}. Aliases such as vend, bc or 'adobe commerce' work too; "
        "`getkey platforms` lists them with what each collects.",
        "Start with `getkey serve` (settings: README, .env.example). Every list command takes "
        "--json.",
    )
    return "\n\n".join(textwrap.fill(p, 88) for p in paragraphs)


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON)")


def build_parser() -> argparse.ArgumentParser:
    from bot import __version__

    parser = argparse.ArgumentParser(
        prog="getkey", description=_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"getkey {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN)")
    serve.add_argument("--http", action="store_true", help="force HTTP mode even with an app token")

    platforms = sub.add_parser("platforms", help="list supported platforms")
    platforms.add_argument("--json", action="store_true", help="machine-readable output")

    guide = sub.add_parser("guide", help="print a platform's guide")
    guide.add_argument("platform", metavar="PLATFORM", help="a platform id or alias (above)")

    verify = sub.add_parser("verify", help="ask for a credential and verify it live")
    verify.add_argument("platform", metavar="PLATFORM", help="a platform id or alias (above)")

    keys = sub.add_parser("keys", help="encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser("generate", help="print a new encryption key")
    keys_sub.add_parser("rotate", help="re-encrypt every stored secret under the newest key")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply migrations")
    _json_flag(db_sub.add_parser("current", help="the schema revision; exit 1 if not the newest"))

    remind = sub.add_parser("remind", help="send due reminders")
    remind.add_argument("--once", action="store_true", required=True, help="run one sweep and exit")
    remind.add_argument("--now", help="pretend it is this time (ISO-8601), for operators and tests")
    remind.add_argument("--dry-run", action="store_true",
                        help="list what is due; send, claim and change nothing")
    _json_flag(remind)

    reveal = sub.add_parser("reveal", help="print a stored secret (audited; needs the key)")
    reveal.add_argument("credential_id", nargs="?", help="credential id (see --list)")
    reveal.add_argument("--list", action="store_true", help="list credentials, masked")
    reveal.add_argument("--team", help="with --list: only this workspace")
    reveal.add_argument("--json", action="store_true", help="machine-readable output")
    reveal.add_argument("--operator", help="name recorded in the audit log (default: $USER)")
    reveal.add_argument(
        "--access",
        action="store_true",
        help="also print what a tool sends right now (e.g. a freshly minted Shopify token)",
    )
    _add_handoff_commands(sub)
    return parser


def _add_handoff_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """api-tokens, webhooks, request-policy: handing keys to tools (docs/handoff.md)."""
    tokens = sub.add_parser("api-tokens", help="tokens of the tool API (docs/handoff.md)")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", required=True, metavar="ACTION")
    create = tokens_sub.add_parser("create", help="create a token (printed once)")
    create.add_argument("--team", required=True, help="Slack workspace id (T…)")
    create.add_argument("--name", required=True, help="who uses it, e.g. migration-tool")
    create.add_argument("--platform", action="append", help="only this platform (repeatable)")
    listing = tokens_sub.add_parser("list", help="list tokens (never the tokens themselves)")
    listing.add_argument("--team")
    _json_flag(listing)
    revoke = tokens_sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("--team", required=True)
    revoke.add_argument("--name", required=True)

    hooks = sub.add_parser("webhooks", help="outbound webhooks (docs/handoff.md)")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    hook_set = hooks_sub.add_parser("set", help="set a workspace's webhook (secret printed once)")
    hook_set.add_argument("--team", required=True)
    hook_set.add_argument("--url", required=True)
    hook_rm = hooks_sub.add_parser("remove", help="remove a workspace's webhook")
    hook_rm.add_argument("--team", required=True)
    _json_flag(hooks_sub.add_parser("list", help="list webhooks"))
    deliveries = hooks_sub.add_parser("deliveries", help="deliveries with each attempt's status")
    deliveries.add_argument("--team", help="only this workspace")
    _json_flag(deliveries)
    test = hooks_sub.add_parser("test", help="send a signed ping now; exit 1 unless 2xx")
    test.add_argument("--team", required=True)
    _json_flag(test)

    policy = sub.add_parser(
        "request-policy", help="a workspace's request nudge/expiry days (docs/handoff.md)"
    )
    policy.add_argument("--team", required=True)
    policy.add_argument("--nudge-days", type=int, help="nudge an unanswered request after N days")
    policy.add_argument("--expire-days", type=int, help="expire it after N days")
    policy.add_argument("--reset", action="store_true", help="back to the settings' defaults")
    _json_flag(policy)


def run(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "serve":
        from bot.cli.serve import serve

        return serve(force_http=args.http)
    if cmd == "platforms":
        from bot.cli.guide import cmd_platforms

        return cmd_platforms(as_json=args.json)
    if cmd == "guide":
        from bot.cli.guide import cmd_guide

        return cmd_guide(args.platform)
    if cmd == "verify":
        from bot.cli.guide import cmd_verify

        return cmd_verify(args.platform)
    if cmd == "keys":
        from bot.cli import operator

        if args.keys_command == "generate":
            return operator.cmd_keys_generate()
        return operator.cmd_keys_rotate()
    if cmd == "db":
        from bot.cli import operator, ops

        if args.db_command == "current":
            return ops.cmd_db_current(args.json)
        return operator.cmd_db_upgrade()
    if cmd == "remind":
        from bot.cli import operator, ops

        if args.dry_run:
            return ops.cmd_remind_dry_run(args.now, args.json)
        return operator.cmd_remind(now=args.now, as_json=args.json)
    if cmd == "reveal":
        from bot.cli import operator

        return operator.cmd_reveal(args)
    if cmd == "request-policy":
        from bot.cli.tools import cmd_request_policy

        return cmd_request_policy(args)
    if cmd == "api-tokens":
        from bot.cli.tools import cmd_api_tokens

        return cmd_api_tokens(args)
    if cmd == "webhooks":
        from bot.cli import ops
        from bot.cli.tools import _team, cmd_webhooks

        if args.webhooks_command == "deliveries":
            return ops.cmd_webhook_deliveries(_team(args.team) if args.team else None, args.json)
        if args.webhooks_command == "test":
            return ops.cmd_webhook_test(_team(args.team), args.json)
        return cmd_webhooks(args)
    raise UsageError(f"unknown command {cmd}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except UsageError as exc:
        print(f"getkey: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `getkey guide wix | head`: the reader has all it wanted. Quiet, and stdout pointed at
        # /dev/null so Python's own flush at exit cannot complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as shell tools end


if __name__ == "__main__":
    sys.exit(main())
