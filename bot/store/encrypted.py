"""Every encrypted column of the database, in one registry.

Key rotation (`getkey keys rotate`), the health check behind `/healthz` and a test that walks
the schema all read `REGISTRY`, so a new encrypted column cannot be forgotten by one of them:
the test fails for a table with a `key_id` column that is not registered here.

Each entry names the table, the columns holding keyring tokens and how to rebuild the
associated data (AAD) that binds a token to its row. `key_id` repeats the id of the key that
encrypted the row, so rows still under an old key are found with a query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from bot.store.crypto import ENV_NAME, DecryptError, Keyring, aad_for
from bot.store.models import Credential, InstallationRow, SecretValue
from bot.store.sharing_models import Webhook

# The row, the column and the session (to look up what the AAD needs) -> associated data.
AadOf = Callable[[Session, Any, str], bytes]


def secret_aad(credential_id: str, team_id: str, platform: str, field: str) -> bytes:
    return aad_for("getkey-secret", credential_id, team_id, platform, field)


def installation_aad(row: InstallationRow, column: str) -> bytes:
    return aad_for("getkey-installation", row.enterprise_id, row.team_id, row.user_id, column)


def webhook_aad(team_id: str) -> bytes:
    return aad_for("getkey-webhook", team_id)


def _secret_value_aad(s: Session, row: SecretValue, _column: str) -> bytes:
    cred = s.get(Credential, row.credential_id)
    if cred is None:  # cascade deletes make this unreachable; name it if it ever happens
        raise DecryptError(f"secret '{row.field}' has no credential {row.credential_id}")
    return secret_aad(cred.id, cred.team_id, cred.platform, row.field)


@dataclass(frozen=True)
class EncryptedTable:
    model: type[SQLModel]
    columns: tuple[str, ...]
    aad: AadOf
    what: str  # how an operator would call one row, for messages

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)

    @property
    def key(self) -> list[sa.Column[Any]]:
        return list(sa.inspect(self.model).primary_key)

    def describe(self, row: Any) -> str:
        ident = ", ".join(str(getattr(row, c.name)) for c in self.key)
        return f"{self.what} {ident}"


REGISTRY: tuple[EncryptedTable, ...] = (
    EncryptedTable(SecretValue, ("token",), _secret_value_aad, "credential secret"),
    EncryptedTable(
        InstallationRow,
        ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
        lambda _s, row, column: installation_aad(row, column),
        "Slack installation",
    ),
    EncryptedTable(
        Webhook, ("secret_token",), lambda _s, row, _c: webhook_aad(row.team_id),
        "webhook signing secret of workspace",
    ),
)

# Tables with a key_id that rotation leaves alone on purpose: one canary per key id.
NOT_ROTATED = frozenset({"key_canary"})


def open_row(keyring: Keyring, s: Session, table: EncryptedTable, row: Any) -> dict[str, str]:
    """Every token column of `row` decrypted (empty columns left out)."""
    out = {}
    for column in table.columns:
        token = getattr(row, column)
        if not token:
            continue
        try:
            out[column] = keyring.decrypt(token, table.aad(s, row, column))
        except DecryptError as exc:
            raise DecryptError(
                f"The {column} of {table.describe(row)} ({table.name}) cannot be decrypted: {exc}"
            ) from None
    return out


def reseal_row(keyring: Keyring, s: Session, table: EncryptedTable, row: Any) -> None:
    """Re-encrypt every token column of `row` under the newest key."""
    for column, value in open_row(keyring, s, table, row).items():
        setattr(row, column, keyring.encrypt(value, table.aad(s, row, column)))
    row.key_id = keyring.current_kid


def count_rows(s: Session, table: EncryptedTable, kid: str) -> tuple[int, int]:
    """(rows, rows already under `kid`)."""
    model: Any = table.model
    total = s.scalar(sa.select(sa.func.count()).select_from(model)) or 0
    current = s.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.key_id == kid)
    ) or 0
    return total, current


def stale_batch(s: Session, table: EncryptedTable, kid: str, batch: int) -> list[Any]:
    model: Any = table.model
    return list(
        s.scalars(
            sa.select(model).where(model.key_id != kid).order_by(*table.key).limit(batch)
            .with_for_update()
        ).all()
    )


def keyring_problems(keyring: Keyring, s: Session) -> list[str]:
    """Per table: key ids used there that the keyring lacks, and one row per key id that does
    not decrypt. Reasons name tables and key ids, never a value."""
    kids = set(keyring.kids)
    problems: list[str] = []
    for table in REGISTRY:
        model: Any = table.model
        used = s.scalars(sa.select(model.key_id).distinct().limit(20)).all()
        for kid in sorted(set(used)):
            if kid not in kids:
                problems.append(
                    f"{table.name}: rows are encrypted with key {kid}, which is not in {ENV_NAME}"
                )
                continue
            sample = s.scalars(sa.select(model).where(model.key_id == kid).limit(1)).first()
            try:
                if sample is not None:
                    open_row(keyring, s, table, sample)
            except DecryptError:
                problems.append(f"{table.name}: a row under key {kid} cannot be decrypted")
    return problems
