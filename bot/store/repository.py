"""The Store: every read and write of credentials, secrets, reminders, messages owed and the
audit trail, assembled from one class per concern.

Writes that must be all-or-nothing (saving a credential with its secrets, reminders, audit
event and confirmation message) happen in one transaction. Values returned to callers never
hold a secret; only `reveal()` and `secret_values()` decrypt, and `reveal()` is audited.
"""

from __future__ import annotations

from bot.store.admin import WorkspaceAdmin
from bot.store.audit import AuditReads
from bot.store.changes import Changes
from bot.store.checks import Checks
from bot.store.claims import Claims
from bot.store.credentials import Credentials
from bot.store.health import Health, HealthReport
from bot.store.info import (
    AuditEventInfo,
    CredentialInfo,
    CredentialNotFound,
    DueReminder,
    RotateReport,
    Saved,
)
from bot.store.installations import Installations, WorkspaceInfo
from bot.store.links import Links
from bot.store.my_list import MyList
from bot.store.outbox import Outbox, OutboxItem
from bot.store.pending import Pending, PendingInfo
from bot.store.requests import Requests
from bot.store.tokens import ApiTokens
from bot.store.upkeep import Upkeep
from bot.store.webhooks import Webhooks

__all__ = [
    "AuditEventInfo",
    "CredentialInfo",
    "CredentialNotFound",
    "DueReminder",
    "HealthReport",
    "OutboxItem",
    "PendingInfo",
    "RotateReport",
    "Saved",
    "Store",
    "WorkspaceInfo",
]


class Store(
    Credentials, Installations, Checks, Claims, Outbox, Pending, AuditReads, Health, Changes,
    ApiTokens, Webhooks, Requests, WorkspaceAdmin, Links, Upkeep, MyList,
):
    """One per process, shared by threads (see bot.store.base)."""
