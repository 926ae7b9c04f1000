"""Operator commands: `getkey keys generate|rotate`, `getkey db upgrade`, `getkey reveal`,
`getkey remind --once`. Settings come from the settings object (environment and .env);
anything an operator can fix is raised as bot.errors.UsageError, one line, no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.errors import UsageError
from bot.services.access import AccessRefused, access_values
from bot.settings import Settings, SettingsError, load_partial
from bot.store.crypto import ENV_NAME, DecryptError, Keyring, KeyringError, generate_key
from bot.store.db import (
    SchemaOutOfDate,
    current_revision,
    display_url,
    ensure_current,
    make_engine,
    upgrade,
)
from bot.store.repository import CredentialInfo, CredentialNotFound, Store
from flows.http import PlatformHttp


def _settings() -> Settings:
    try:
        return load_partial()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def _keyring(settings: Settings) -> Keyring:
    try:
        return Keyring.from_env(settings.secret("getkey_encryption_keys"))
    except KeyringError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def _store() -> Iterator[Store]:
    settings = _settings()
    keyring = _keyring(settings)
    url = settings.database_url
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise UsageError(f"DATABASE_URL is not usable ({type(exc).__name__}).") from None
    try:
        try:
            ensure_current(engine)
        except SchemaOutOfDate as exc:
            raise UsageError(f"{display_url(url)}: {exc}") from None
        except OperationalError:
            raise UsageError(f"Cannot open the database at {display_url(url)}.") from None
        yield Store(engine, keyring)
    finally:
        engine.dispose()


def cmd_keys_generate() -> int:
    # The key alone on stdout, so `KEY=$(getkey keys generate)` works; advice on stderr.
    key = generate_key()
    print(key)
    print(
        f"\nPut this key FIRST in {ENV_NAME} (comma-separated, newest first), keeping the old "
        f"ones after it:\n  {ENV_NAME}=<new key>,<old key>...\n"
        "then run `getkey keys rotate` to re-encrypt stored secrets under it; once that "
        "reports nothing left under an old key, the old key can be removed.\n"
        "Keep a copy somewhere safe: without the key, stored credentials cannot be read.",
        file=sys.stderr,
    )
    return 0


def cmd_keys_rotate() -> int:
    with _store() as store:

        def progress(done: int, total: int) -> None:
            print(f"  re-encrypted {done} so far ({total} values in all)", file=sys.stderr)

        try:
            report = store.rotate_keys(progress=progress)
        except DecryptError as exc:
            raise UsageError(
                f"{exc} Nothing is lost: already re-encrypted values stay readable; fix the "
                "keys and run `getkey keys rotate` again to finish."
            ) from None
    print(
        f"Re-encrypted {report.reencrypted} secret value(s) under the newest key; "
        f"{report.already_current} already used it; {report.total} in all."
    )
    return 0


def cmd_db_upgrade() -> int:
    url = _settings().database_url
    try:
        upgrade(url)
        engine = make_engine(url)
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
    except OperationalError:
        raise UsageError(f"Cannot open the database at {display_url(url)}.") from None
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise UsageError(f"Could not upgrade {display_url(url)} ({type(exc).__name__}).") from None
    print(f"Database schema is up to date (revision {revision}) at {display_url(url)}.")
    return 0


def _row(info: CredentialInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "team": info.team_id,
        "user": info.user_id,
        "platform": info.platform,
        "store": info.store_name or info.identity,
        "masked": info.masked,
        "status": info.status,
        "verified_at": info.verified_at.isoformat() if info.verified_at else None,
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
    }


def cmd_reveal(args: argparse.Namespace) -> int:
    if not getattr(args, "list", False) and not getattr(args, "credential_id", None):
        raise UsageError("Give a credential id to reveal, or --list to see them (masked).")
    with _store() as store:
        if args.list:
            rows = [_row(info) for info in store.list_all(getattr(args, "team", None))]
            if args.json:
                print(json.dumps(rows, indent=2))
            elif not rows:
                print("No credentials stored.")
            else:
                for r in rows:
                    print(
                        f"{r['id']}  {r['team']}/{r['user']}  {r['platform']}  {r['store']}  "
                        f"{r['masked']}  {r['status']}"
                    )
            return 0
        operator = (getattr(args, "operator", None) or "").strip()
        if not operator:
            try:
                # The login name ($USER first), as the audit trail's operator.
                operator = getpass.getuser()
            except (KeyError, OSError):
                operator = ""
        if not operator:
            raise UsageError("Say who you are with --operator NAME: reveals are audited.")
        try:
            values = store.reveal(args.credential_id, actor=f"operator:{operator}")
        except CredentialNotFound:
            raise UsageError(
                f"No credential with id {args.credential_id}; see `getkey reveal --list`."
            ) from None
        except DecryptError as exc:
            raise UsageError(str(exc)) from None
        if getattr(args, "access", False):
            values = _with_access(store, args.credential_id, values)
    if args.json:
        print(json.dumps(values, indent=2, sort_keys=True))
    else:
        for key, value in sorted(values.items()):
            print(f"{key}: {value}")
    return 0


def _with_access(store: Store, credential_id: str, values: dict[str, str]) -> dict[str, str]:
    """The stored values plus what the platform mints for use now (e.g. a Shopify token)."""
    info = store.get(credential_id)
    if info is None:
        return values
    http = PlatformHttp(environ=_settings().platform_env)
    try:
        return access_values(info.platform, values, http)
    except AccessRefused as exc:
        raise UsageError(str(exc)) from None
    finally:
        http.close()


# -- `getkey remind --once [--now …]` ----------------------------------------------------------
def parse_now(text: str | None) -> datetime | None:
    """--now as an aware UTC datetime; a naive time is taken as UTC."""
    if text is None:
        return None
    raw = text.strip()
    if raw[-1:] in ("Z", "z"):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO-8601 time; use e.g. 2030-06-01T09:00:00Z"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _quiet_logging(level: str) -> None:
    """Problems (a Slack outage, a dropped reminder) as redacted JSON lines on stderr; the
    per-reminder INFO lines would only repeat stdout. Left alone when the process already has
    logging set up (tests, an embedding program)."""
    from bot.logs import install_redaction
    from bot.logsetup import configure_logging

    install_redaction()
    if not logging.getLogger().handlers:
        configure_logging(level if level in ("ERROR", "CRITICAL") else "WARNING")


def _sweep_failed(exc: Exception) -> UsageError:
    # The text may quote the database URL (with its password): the type only.
    return UsageError(
        f"the sweep failed ({type(exc).__name__}); check DATABASE_URL and run "
        "`getkey db upgrade`"
    )


def cmd_remind(now: str | None, as_json: bool = False) -> int:
    """Run one sweep as if it were `now` and send what the outbox owes; one line per DM. A
    large sweep is split between processes by person (bot.cli.sweepers)."""
    from bot.cli import sweepers
    from bot.clock import utcnow
    from bot.http.serving import loop_factory
    from bot.runtime import Runtime
    from bot.settings import load_settings

    when = parse_now(now)
    try:
        # No Slack requests are received here, so no signing secret is needed.
        settings = load_settings(http_mode=False)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    _quiet_logging(settings.log_level)
    at = when or utcnow()
    try:
        count = sweepers.count_workers(settings, at)
        # Every process sweeps as of the same moment.
        part, moment = ((0, count), at) if count > 1 else (None, when)
        workers = sweepers.start(
            count, lambda p: sweepers.sweep_part(settings, moment, p, Runtime.from_settings)
        )
        rt = Runtime.from_settings(settings)
    except KeyringError as exc:
        raise UsageError(f"{ENV_NAME}: {str(exc).rstrip('.')}.") from None
    except Exception as exc:
        raise _sweep_failed(exc) from None

    async def once() -> list[Any]:
        try:
            mine: list[Any] = []
            try:
                mine = await rt.sweep.run(moment, part=part)
            finally:
                # The other parts' DMs, once every worker is done; then what the outbox owes.
                others = await asyncio.to_thread(sweepers.collect, workers)
            return mine + others + await rt.outbox.drain()
        finally:
            await rt.clients.close()

    try:
        # uvloop (the `fast` extra, when installed): a sweep is mostly scheduling many small
        # sends, which asyncio's own loop does several times slower.
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            sent = runner.run(once())
    except Exception as exc:
        raise _sweep_failed(exc) from None
    finally:
        rt.close()
    if as_json:
        print(json.dumps([dataclasses.asdict(item) for item in sent], indent=2))
        return 0
    for item in sent:
        print(item.line())
    as_of = f" as of {when.isoformat()}" if when else ""
    print(f"{len(sent)} reminder{'' if len(sent) == 1 else 's'} sent{as_of}", file=sys.stderr)
    return 0
