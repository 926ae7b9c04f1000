"""Operator commands of the hand-off: `getkey api-tokens create|list|revoke` and
`getkey webhooks set|remove|list`. A token or a signing secret is printed once, on stdout
alone (so `TOKEN=$(getkey api-tokens create …)` works), and never stored in clear."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from urllib.parse import urlsplit, urlunsplit

from bot.cli.operator import _settings, _store
from bot.cli.ops import emit
from bot.errors import UsageError
from bot.store.tokens import TokenNameTaken
from bot.webhook_urls import check_url
from flows import catalog

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_TEAM = re.compile(r"[A-Z0-9]{2,32}")


def _team(value: str) -> str:
    if not _TEAM.fullmatch(value or ""):
        raise UsageError(f"--team {value!r} is not a Slack workspace id (like T0123ABCD).")
    return value


def cmd_api_tokens(args: argparse.Namespace) -> int:
    action = args.tokens_command
    with _store() as store:
        if action == "create":
            team = _team(args.team)
            if not _NAME.fullmatch(args.name or ""):
                raise UsageError(
                    "--name must be 1-80 letters, digits, dots, dashes or underscores."
                )
            platforms = None
            if args.platform:
                unknown = [p for p in args.platform if catalog.get(p) is None]
                if unknown:
                    raise UsageError(
                        f"unknown platform {unknown[0]!r}: `getkey platforms` lists them."
                    )
                platforms = sorted({catalog.get(p).id for p in args.platform})  # type: ignore[union-attr]
            try:
                token, info = store.create_api_token(team, args.name, platforms)
            except TokenNameTaken:
                raise UsageError(
                    f"{team} already has a live token named {args.name!r}: revoke it first "
                    "or choose another name."
                ) from None
            print(token)
            scope = ", ".join(info.platforms) if info.platforms else "every platform"
            print(
                f"\nAPI token {info.name!r} for {team} ({scope}). It is shown this once and "
                "stored hashed: keep it in the tool's secret store.\n"
                "Use it as `Authorization: Bearer <token>`; revoke it with "
                f"`getkey api-tokens revoke --team {team} --name {info.name}`.",
                file=sys.stderr,
            )
            return 0
        if action == "list":
            tokens = store.api_tokens(_team(args.team) if args.team else None)
            if args.json:
                emit([{"team": t.team_id, "name": t.name, "platforms": t.platforms or None,
                       "revoked_at": t.revoked_at, "last_used_at": t.last_used_at}
                      for t in tokens])
                return 0
            if not tokens:
                print("No API tokens.")
            for t in tokens:
                state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
                used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "unused"
                scope = ",".join(t.platforms) if t.platforms else "all platforms"
                print(f"{t.team_id}  {t.name}  {scope}  {state}  {used}")
            return 0
        team = _team(args.team)
        if not store.revoke_api_token(team, args.name):
            raise UsageError(f"{team} has no live API token named {args.name!r}.")
        print(f"Revoked {args.name!r} for {team}: calls with it now get 401.")
        return 0


def _without_credentials(url: str) -> str:
    """A URL stored before credentials in URLs were refused is listed without them."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="…@" + parts.netloc.rsplit("@", 1)[1]))


def cmd_webhooks(args: argparse.Namespace) -> int:
    action = args.webhooks_command
    with _store() as store:
        if action == "set":
            team = _team(args.team)
            allow = _settings().getkey_webhook_allow_private
            try:
                # The whole policy, resolution included; checked again before every send.
                asyncio.run(check_url(args.url, allow_private=allow))
                secret = store.set_webhook(team, args.url, allow_private=allow)
            except ValueError as exc:
                raise UsageError(f"{exc}. Nothing was changed.") from None
            print(secret)
            print(
                f"\nWebhook for {team} set. The signing secret above is shown this once: give "
                "it to the receiver, which checks X-Getkey-Signature with it "
                "(docs/handoff.md).",
                file=sys.stderr,
            )
            return 0
        if action == "list":
            hooks = store.webhooks()
            if args.json:
                emit([{"team": h.team_id, "url": _without_credentials(h.url)} for h in hooks])
                return 0
            if not hooks:
                print("No webhooks.")
            for h in hooks:
                print(f"{h.team_id}  {_without_credentials(h.url)}")
            return 0
        team = _team(args.team)
        if not store.remove_webhook(team):
            raise UsageError(f"{team} has no webhook.")
        print(f"Webhook of {team} removed; undelivered events for it are dropped.")
        return 0


def cmd_request_policy(args: argparse.Namespace) -> int:
    """`getkey request-policy --team T [--nudge-days N] [--expire-days N] [--reset]`: the
    workspace's own delays for new requests; without a change, prints the current ones."""
    team = _team(args.team)
    for name, value in (("--nudge-days", args.nudge_days), ("--expire-days", args.expire_days)):
        if value is not None and not 1 <= value <= 365:
            raise UsageError(f"{name} must be a whole number of days from 1 to 365.")
    with _store() as store:
        nudge, expire = store.request_policy(team)
        if args.reset:
            nudge = expire = None
        nudge = args.nudge_days if args.nudge_days is not None else nudge
        expire = args.expire_days if args.expire_days is not None else expire
        if nudge and expire and nudge >= expire:
            raise UsageError("--nudge-days must be fewer than --expire-days.")
        if args.reset or args.nudge_days is not None or args.expire_days is not None:
            store.set_request_policy(team, nudge_days=nudge, expire_days=expire)
    if args.json:
        emit({"team": team, "nudge_days": nudge, "expire_days": expire})
        return 0
    shown = lambda v: f"{v} days" if v else "the default"  # noqa: E731
    print(f"{team}: requests nudged after {shown(nudge)}, expired after {shown(expire)}.")
    return 0
