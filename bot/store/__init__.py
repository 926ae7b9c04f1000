"""Encrypted storage of credentials, their reminders and the audit trail.

Import from here: `from bot.store import Store, Keyring, make_engine, upgrade, CredentialInfo`.
"""

from bot.store.crypto import DecryptError, Keyring, KeyringError, generate_key
from bot.store.db import make_engine, migrate, upgrade
from bot.store.repository import (
    AuditEventInfo,
    CredentialInfo,
    CredentialNotFound,
    DueReminder,
    RotateReport,
    Saved,
    Store,
)

__all__ = [
    "AuditEventInfo",
    "CredentialInfo",
    "CredentialNotFound",
    "DecryptError",
    "DueReminder",
    "Keyring",
    "KeyringError",
    "RotateReport",
    "Saved",
    "Store",
    "generate_key",
    "make_engine",
    "migrate",
    "upgrade",
]
