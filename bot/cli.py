"""The `getkey` console script. Each command lives with the code it drives; this module only
parses arguments and turns known failures into one clear line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="getkey", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN)")
    serve.add_argument("--http", action="store_true", help="force HTTP mode even with an app token")

    platforms = sub.add_parser("platforms", help="list supported platforms")
    platforms.add_argument("--json", action="store_true", help="machine-readable output")

    guide = sub.add_parser("guide", help="print a platform's guide")
    guide.add_argument("platform")

    verify = sub.add_parser("verify", help="ask for a credential and verify it live")
    verify.add_argument("platform")

    keys = sub.add_parser("keys", help="encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser("generate", help="print a new encryption key")
    keys_sub.add_parser("rotate", help="re-encrypt every stored secret under the newest key")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply migrations")

    remind = sub.add_parser("remind", help="send due reminders")
    remind.add_argument("--once", action="store_true", required=True, help="run one sweep and exit")
    remind.add_argument("--now", help="pretend it is this time (ISO-8601), for operators and tests")

    reveal = sub.add_parser("reveal", help="print a stored secret (audited; needs the key)")
    reveal.add_argument("credential_id", nargs="?", help="credential id (see --list)")
    reveal.add_argument("--list", action="store_true", help="list credentials, masked")
    reveal.add_argument("--team", help="with --list: only this workspace")
    reveal.add_argument("--json", action="store_true", help="machine-readable output")
    reveal.add_argument("--operator", help="name recorded in the audit log (default: $USER)")
    return parser


def run(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "serve":
        from bot.server import serve

        return serve(force_http=args.http)
    if cmd == "platforms":
        from bot.terminal.commands import cmd_platforms

        return cmd_platforms(as_json=args.json)
    if cmd == "guide":
        from bot.terminal.commands import cmd_guide

        return cmd_guide(args.platform)
    if cmd == "verify":
        from bot.terminal.commands import cmd_verify

        return cmd_verify(args.platform)
    if cmd == "keys":
        from bot import commands

        if args.keys_command == "generate":
            return commands.cmd_keys_generate()
        return commands.cmd_keys_rotate()
    if cmd == "db":
        from bot import commands

        return commands.cmd_db_upgrade()
    if cmd == "remind":
        from bot import commands

        return commands.cmd_remind(now=args.now)
    if cmd == "reveal":
        from bot import commands

        return commands.cmd_reveal(args)
    raise UsageError(f"unknown command {cmd}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"getkey: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
