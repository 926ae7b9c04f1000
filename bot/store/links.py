"""Requests answered through a secret link (issue 22): found by the SHA-256 of the link's token,
failed verifications counted until the link locks, fulfilled by one verified key.

The rows are the ordinary credential requests (bot.store.requests) whose provider is
LINK_PROVIDER; every move writes what the requester is owed in its own transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.store.base import StoreCore
from bot.store.requests import OPEN_STATES, RequestInfo, _info, _tell
from bot.store.sharing_models import CredentialRequest


class Links(StoreCore):
    def request_by_link(self, link_hash: str) -> RequestInfo | None:
        with self._session(write=False) as s:
            row = s.scalars(
                sa.select(CredentialRequest).where(CredentialRequest.link_hash == link_hash)
            ).first()
            return _info(row) if row else None

    def link_failed(self, request_id: str, detail: str, *, max_failures: int) -> RequestInfo | None:
        """One more failed verification: 'failed' (the requester hears the cause), or 'locked'
        once `max_failures` is reached (the requester hears that instead). None when the
        request is no longer open."""
        now = self._now()
        with self._session(write=True) as s:
            row = s.get(CredentialRequest, request_id, with_for_update=True)
            if row is None or row.state not in OPEN_STATES:
                return None
            row.failures = (row.failures or 0) + 1
            row.state = "locked" if row.failures >= max_failures else "failed"
            row.detail, row.updated_at = detail[:300], now
            _tell(s, row, now)
            s.flush()
            return _info(row)

    def link_fulfilled(
        self, request_id: str, *, credential_id: str, provider_name: str
    ) -> RequestInfo | None:
        """The verified key is stored: the request is done (the requester's 'stored' message
        was written with the credential)."""
        now = self._now()
        with self._session(write=True) as s:
            row = s.get(CredentialRequest, request_id, with_for_update=True)
            if row is None or row.state not in OPEN_STATES:
                return None
            row.state, row.detail, row.updated_at = "fulfilled", "", now
            row.credential_id = credential_id
            row.provider_name = provider_name[:80]
            s.flush()
            return _info(row)
