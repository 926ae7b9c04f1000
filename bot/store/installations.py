"""Slack installations, OAuth states and workspaces.

Tokens (bot, user, and their refresh tokens) are keyring ciphertexts, each bound by its AAD to
(enterprise, team, user, column): a token copied into another workspace's row does not decrypt.
Everything else of slack_sdk's Installation is kept as plain JSON (ids, scopes, names).

An uninstall deletes the workspace's tokens at once and marks the workspace uninstalled: its
credentials stay (encrypted) and its reminders are skipped by the claims until it is installed
again, or until `purge_uninstalled` deletes them after the retention period.
"""

from __future__ import annotations

import secrets as pysecrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.orm import Session

from bot.store import audit
from bot.store.crypto import DecryptError
from bot.store.encrypted import installation_aad
from bot.store.models import (
    Credential,
    InstallationRow,
    OAuthState,
    Reminder,
    SecretValue,
    Submission,
    Workspace,
)
from bot.store.secrets import Secrets
from bot.store.sharing_models import ApiToken, Webhook, WebhookDelivery

TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
# Never kept: getkey asks for no incoming webhook, and its URL would be a secret too.
_DROPPED = ("incoming_webhook_url", "custom_values", "installed_at",
            "bot_token_expires_at", "user_token_expires_at")  # fmt: skip


@dataclass(frozen=True)
class WorkspaceInfo:
    enterprise_id: str | None
    team_id: str | None
    installed_at: datetime
    uninstalled_at: datetime | None
    admin_group: str | None
    rotation_days: int | None
    platforms: list[str] | None


def _key(value: str | None) -> str:
    return value or ""


def _epoch(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)


def _cut_tool_access(s: Session, team: str, now: datetime) -> str:
    """An uninstalled workspace's API tokens are revoked and its webhook removed (with what
    it had not delivered): tools lose access with the app. A reinstall does not bring them
    back; an admin creates new ones (docs/handoff.md)."""
    revoked = s.execute(
        sa.update(ApiToken)
        .where(ApiToken.team_id == team, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    hooks = s.scalars(sa.select(Webhook.id).where(Webhook.team_id == team)).all()
    if hooks:
        s.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.webhook_id.in_(hooks)))
        s.execute(sa.delete(Webhook).where(Webhook.id.in_(hooks)))
    return f"; {revoked} API token(s) revoked, {len(hooks)} webhook(s) removed"


class Installations(Secrets):
    # -- encryption -------------------------------------------------------------------------
    @staticmethod
    def installation_aad(row: InstallationRow, column: str) -> bytes:
        return installation_aad(row, column)

    def _seal(self, row: InstallationRow, values: dict[str, str | None]) -> None:
        for column in TOKEN_COLUMNS:
            value = values.get(column)
            aad = self.installation_aad(row, column)
            setattr(row, column, self._keyring.encrypt(value, aad) if value else None)
        row.key_id = self._keyring.current_kid

    def _open(self, row: InstallationRow) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for column in TOKEN_COLUMNS:
            token = getattr(row, column)
            aad = self.installation_aad(row, column)
            try:
                out[column] = self._keyring.decrypt(token, aad) if token else None
            except DecryptError as exc:
                raise DecryptError(
                    f"Slack {column} of installation {row.id} cannot be decrypted: {exc}"
                ) from None
        return out

    def _installation(self, row: InstallationRow) -> Installation:
        data = dict(row.data)
        data["installed_at"] = row.installed_at.timestamp()
        return Installation(
            **data,
            **self._open(row),
            bot_token_expires_at=row.bot_token_expires_at,
            user_token_expires_at=row.user_token_expires_at,
        )

    # -- the installation store ---------------------------------------------------------------
    def save_installation(self, installation: Installation) -> None:
        """Insert or replace the installation of (enterprise, team, installer); mark the
        workspace installed again (an earlier uninstall's credentials come back)."""
        now = self._now()
        standard = installation.to_dict_for_copying()
        tokens = {c: standard.get(c) for c in TOKEN_COLUMNS}
        data = {k: v for k, v in standard.items() if k not in TOKEN_COLUMNS and k not in _DROPPED}
        ent = _key(installation.enterprise_id)
        team = "" if installation.is_enterprise_install else _key(installation.team_id)
        user = _key(installation.user_id)
        with self._session(write=True) as s:
            row = s.scalars(
                sa.select(InstallationRow)
                .filter_by(enterprise_id=ent, team_id=team, user_id=user)
                .with_for_update()
            ).first()
            new_row = row is None
            if row is None:
                row = InstallationRow(enterprise_id=ent, team_id=team, user_id=user, key_id="")
                s.add(row)
            row.is_enterprise_install = bool(installation.is_enterprise_install)
            row.data = data
            row.bot_token_expires_at = _epoch(installation.bot_token_expires_at)
            row.user_token_expires_at = _epoch(installation.user_token_expires_at)
            row.installed_at = now
            self._seal(row, tokens)
            ws = s.get(Workspace, (ent, team), with_for_update=True)
            # A refreshed token saves the installation again: not an install to record.
            fresh_install = new_row or ws is None or ws.uninstalled_at is not None
            if ws is None:
                s.add(Workspace(enterprise_id=ent, team_id=team, installed_at=now))
            elif ws.uninstalled_at is not None:
                ws.installed_at, ws.uninstalled_at = now, None
            if fresh_install:
                audit.record(
                    s, "installed", actor=f"slack:{team or ent}:{user}", at=now,
                    detail=f"enterprise {ent or '-'}, team {team or '-'}",
                )

    def find_installation(
        self,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The installer's installation when `user_id` is given, else the newest one of the
        workspace (or of the org, for an org-wide install)."""
        team = "" if is_enterprise_install else _key(team_id)
        with self._session(write=False) as s:
            query = sa.select(InstallationRow).where(
                InstallationRow.enterprise_id == _key(enterprise_id),
                InstallationRow.team_id == team,
            )
            if user_id is not None:
                query = query.where(InstallationRow.user_id == user_id)
            row = s.scalars(query.order_by(InstallationRow.installed_at.desc()).limit(1)).first()
            return self._installation(row) if row is not None else None

    def installation_for_team(self, team_id: str) -> Installation | None:
        """The bot installation that serves a workspace, outside any request (sweep, outbox):
        the workspace's own, else its Grid org's org-wide install."""
        with self._session(write=False) as s:
            row = s.scalars(
                sa.select(InstallationRow)
                .where(InstallationRow.team_id == team_id, InstallationRow.bot_token.is_not(None))
                .order_by(InstallationRow.installed_at.desc())
                .limit(1)
            ).first()
            if row is None:
                enterprise = s.scalar(
                    sa.select(Credential.enterprise_id)
                    .where(Credential.team_id == team_id, Credential.enterprise_id.is_not(None))
                    .limit(1)
                )
                if enterprise:
                    row = s.scalars(
                        sa.select(InstallationRow)
                        .where(
                            InstallationRow.enterprise_id == enterprise,
                            InstallationRow.team_id == "",
                            InstallationRow.bot_token.is_not(None),
                        )
                        .order_by(InstallationRow.installed_at.desc())
                        .limit(1)
                    ).first()
            return self._installation(row) if row is not None else None

    def delete_installations(
        self, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> int:
        """Delete the tokens of a workspace (or of one installer in it)."""
        with self._session(write=True) as s:
            query = sa.delete(InstallationRow).where(
                InstallationRow.enterprise_id == _key(enterprise_id),
                InstallationRow.team_id == _key(team_id),
            )
            if user_id is not None:
                query = query.where(InstallationRow.user_id == user_id)
            return s.execute(query).rowcount or 0

    def uninstall(self, enterprise_id: str | None, team_id: str | None, *, actor: str) -> int:
        """getkey was removed from a workspace (or org): its tokens go now, its reminders stop;
        its credentials stay until the retention period ends. Returns tokens rows deleted."""
        now = self._now()
        ent, team = _key(enterprise_id), _key(team_id)
        with self._session(write=True) as s:
            deleted = s.execute(
                sa.delete(InstallationRow).where(
                    InstallationRow.enterprise_id == ent, InstallationRow.team_id == team
                )
            ).rowcount or 0
            ws = s.get(Workspace, (ent, team), with_for_update=True)
            if ws is None:
                s.add(Workspace(enterprise_id=ent, team_id=team, installed_at=now,
                                uninstalled_at=now))
            elif ws.uninstalled_at is None:
                ws.uninstalled_at = now
            cut = _cut_tool_access(s, team, now) if team else ""
            audit.record(s, "uninstalled", actor=actor, at=now,
                         detail=f"enterprise {ent or '-'}, team {team or '-'}; "
                                f"{deleted} installation(s) deleted{cut}")
        return deleted

    def purge_uninstalled(self, retention_days: int) -> int:
        """Delete the credentials of workspaces uninstalled more than `retention_days` ago
        (and not installed again). Returns how many credentials went."""
        now = self._now()
        cutoff = now - timedelta(days=retention_days)
        purged = 0
        with self._session(write=True) as s:
            gone = s.scalars(
                sa.select(Workspace).where(
                    Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at <= cutoff
                ).with_for_update()
            ).all()
            for ws in gone:
                scope = (
                    Credential.team_id == ws.team_id
                    if ws.team_id
                    else Credential.enterprise_id == ws.enterprise_id
                )
                creds = s.scalars(sa.select(Credential).where(scope)).all()
                for cred in creds:
                    audit.record(s, "purged", actor="getkey:retention", at=now, cred=cred,
                                 detail=f"uninstalled {ws.uninstalled_at.isoformat()}")
                    for model in (Submission, Reminder, SecretValue):
                        s.execute(sa.delete(model).where(model.credential_id == cred.id))
                    s.delete(cred)
                purged += len(creds)
                s.delete(ws)
        return purged

    # -- workspaces ---------------------------------------------------------------------------
    def workspace(self, enterprise_id: str | None, team_id: str | None) -> WorkspaceInfo | None:
        with self._session(write=False) as s:
            ws = s.get(Workspace, (_key(enterprise_id), _key(team_id)))
            if ws is None:
                return None
            return WorkspaceInfo(
                enterprise_id=ws.enterprise_id or None, team_id=ws.team_id or None,
                installed_at=ws.installed_at, uninstalled_at=ws.uninstalled_at,
                admin_group=ws.admin_group, rotation_days=ws.rotation_days,
                platforms=list(ws.platforms) if ws.platforms is not None else None,
            )

    # -- OAuth state --------------------------------------------------------------------------
    def issue_state(self, ttl_seconds: int) -> str:
        state = pysecrets.token_urlsafe(32)
        now = self._now()
        with self._session(write=True) as s:
            s.execute(sa.delete(OAuthState).where(OAuthState.expires_at <= now))
            s.add(OAuthState(state=state, expires_at=now + timedelta(seconds=ttl_seconds)))
        return state

    def consume_state(self, state: str) -> bool:
        """True once for a state issued here (by any instance) and not yet expired."""
        if not state or len(state) > 64:
            return False
        now = self._now()
        with self._session(write=True) as s:
            deleted = s.execute(
                sa.delete(OAuthState)
                .where(OAuthState.state == state, OAuthState.expires_at > now)
            ).rowcount
        return bool(deleted)
