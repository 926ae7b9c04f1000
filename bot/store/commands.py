"""Operator commands for storage: `getkey keys generate|rotate`, `getkey db upgrade`,
`getkey reveal`. Settings come from the environment (DATABASE_URL, GETKEY_ENCRYPTION_KEYS);
anything an operator can fix is raised as bot.cli.UsageError, one line, no traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.cli import UsageError
from bot.store.crypto import ENV_NAME, DecryptError, Keyring, KeyringError, generate_key
from bot.store.db import (
    SchemaOutOfDate,
    current_revision,
    default_url,
    display_url,
    ensure_current,
    make_engine,
    upgrade,
)
from bot.store.repository import CredentialInfo, CredentialNotFound, Store


def _keyring() -> Keyring:
    try:
        return Keyring.from_env(os.environ.get(ENV_NAME))
    except KeyringError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def _store() -> Iterator[Store]:
    keyring = _keyring()
    url = default_url()
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
    url = default_url()
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
        operator = (getattr(args, "operator", None) or os.environ.get("USER") or "").strip()
        if not operator:
            try:
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
    if args.json:
        print(json.dumps(values, indent=2, sort_keys=True))
    else:
        for key, value in sorted(values.items()):
            print(f"{key}: {value}")
    return 0
