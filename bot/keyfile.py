"""The encryption key kept in a file beside the SQLite database, for a machine where
GETKEY_ENCRYPTION_KEYS is not set (the local console, issue 22).

Generated once (mode 0600, never overwritten) and then used by every mode while the variable
stays unset, so what the console stored can still be read once Slack is connected. For
production, move its content into GETKEY_ENCRYPTION_KEYS (the variable always wins).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

SUFFIX = ".key"
KEY_BYTES = 32  # AES-256 (bot.store.crypto)


def generate_key() -> str:
    """A new random key in the form GETKEY_ENCRYPTION_KEYS expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_file_for(database_url: str) -> Path | None:
    """`<database file>.key` for a SQLite file database; None for anything else."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(database_url)
    except Exception:
        return None
    database = url.database or ""
    if not url.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    return Path(database).expanduser().resolve().with_name(Path(database).name + SUFFIX)


def read_key(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    text = path.read_text(encoding="ascii").strip()
    return text or None


def create_key(path: Path) -> str:
    """Write a new key to `path` (mode 0600); an existing file is kept and returned."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        found = read_key(path)
        if found is None:
            raise
        return found
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key
