"""Secret values: encrypted with the keyring, each bound by its associated data (AAD) to the
row it belongs to, decrypted only by `reveal()` (audited) and `secret_values()`, and
re-encrypted under the newest key by `rotate_keys()`, which covers every table of
bot.store.encrypted.REGISTRY."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlalchemy as sa

from bot.store import audit
from bot.store.base import StoreCore
from bot.store.crypto import DecryptError
from bot.store.encrypted import REGISTRY, count_rows, reseal_row, secret_aad, stale_batch
from bot.store.info import CredentialInfo, RotateReport
from bot.store.models import Credential, SecretValue
from flows.base import mask


class Secrets(StoreCore):
    @staticmethod
    def secret_aad(credential_id: str, team_id: str, platform: str, field: str) -> bytes:
        """Associated data of one secret value: the coordinates of the row it belongs to."""
        return secret_aad(credential_id, team_id, platform, field)

    def _encrypt(self, cred: Credential, field: str, value: str) -> SecretValue:
        return SecretValue(**self._sealed(cred.id, cred.team_id, cred.platform, field, value))

    def _sealed(
        self, credential_id: str, team_id: str, platform: str, field: str, value: str
    ) -> dict[str, str]:
        """One secret_value row, its value encrypted and bound to the row (as values)."""
        token = self._keyring.encrypt(
            value, self.secret_aad(credential_id, team_id, platform, field)
        )
        return {
            "credential_id": credential_id, "field": field, "token": token,
            "key_id": self._keyring.current_kid,
        }  # fmt: skip

    def _decrypt(self, cred: Credential, row: SecretValue) -> str:
        aad = self.secret_aad(cred.id, cred.team_id, cred.platform, row.field)
        try:
            return self._keyring.decrypt(row.token, aad)
        except DecryptError as exc:
            # Name the row so an operator can act; the exception never carries the value.
            raise DecryptError(
                f"Secret '{row.field}' of credential {cred.id} cannot be decrypted: {exc}"
            ) from None

    def reveal(self, credential_id: str, *, actor: str) -> dict[str, str]:
        """All fields, secrets decrypted. For operators and downstream systems, never Slack."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            values = dict(cred.identifiers or {})
            rows = s.scalars(
                sa.select(SecretValue).where(SecretValue.credential_id == credential_id)
            ).all()
            for row in rows:
                values[row.field] = self._decrypt(cred, row)
            audit.record(
                s,
                "revealed",
                actor=actor,
                at=now,
                cred=cred,
                detail="fields: " + ", ".join(sorted(r.field for r in rows)),
            )
        return values

    def secret_values(self, credential_id: str) -> dict[str, str]:
        """The decrypted secret fields, for re-verification and refresh only."""
        with self._session(write=False) as s:
            cred = self._one(s, credential_id, lock=False)
            rows = s.scalars(
                sa.select(SecretValue).where(SecretValue.credential_id == credential_id)
            ).all()
            return {row.field: self._decrypt(cred, row) for row in rows}

    def replace_secret(
        self, credential_id: str, values: Mapping[str, str], *, actor: str
    ) -> CredentialInfo:
        """Atomically replace some secret fields (e.g. a refreshed R-Series refresh token)."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            for field, value in values.items():
                if not value:
                    raise ValueError(f"empty value for secret field '{field}'")
                s.execute(
                    sa.delete(SecretValue).where(
                        SecretValue.credential_id == credential_id, SecretValue.field == field
                    )
                )
                s.add(self._encrypt(cred, field, value))
                if field == cred.masked_field:
                    cred.masked = mask(value)
            audit.record(
                s,
                "secret_replaced",
                actor=actor,
                at=now,
                cred=cred,
                detail="fields: " + ", ".join(sorted(values)),
            )
            s.flush()
            return self._infos(s, [cred], now)[0]

    def rotate_keys(
        self,
        batch: int = 500,
        progress: Callable[[int, int], None] | None = None,
    ) -> RotateReport:
        """Re-encrypt every encrypted column (bot.store.encrypted.REGISTRY) under the newest
        key. Each batch commits on its own, so an interrupted run loses nothing and a second
        run carries on where it stopped."""
        kid = self._keyring.current_kid
        with self._session(write=False) as s:
            counts = [count_rows(s, table, kid) for table in REGISTRY]
        total = sum(t for t, _ in counts)
        already = sum(c for _, c in counts)
        done = 0
        for table in REGISTRY:
            while True:
                with self._session(write=True) as s:
                    rows = stale_batch(s, table, kid, batch)
                    for row in rows:
                        reseal_row(self._keyring, s, table, row)
                if not rows:
                    break
                done += len(rows)
                if progress is not None:
                    progress(done, total)
        now = self._now()
        with self._session(write=True) as s:
            audit.record(
                s,
                "keys_rotated",
                actor="getkey keys rotate",
                at=now,
                detail=f"key {kid}: {done} re-encrypted, {already} already current, {total} total",
            )
        return RotateReport(total=total, reencrypted=done, already_current=already)
