"""What workspace admins change, and owners who left: every credential of a workspace, a new
owner, an owner marked gone, the workspace's defaults. Each write is audited in its own
transaction; the caller (bot.services.admins) has already decided that the actor may do it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bot.store import audit
from bot.store.base import StoreCore
from bot.store.info import CredentialInfo
from bot.store.models import Credential, Workspace


@dataclass(frozen=True)
class Defaults:
    """What a workspace's admins chose (None everywhere: nothing chosen)."""

    admin_group: str | None = None
    rotation_days: int | None = None
    # Platform ids offered in the workspace; None: every platform.
    platforms: tuple[str, ...] | None = None
    # "read" or "write" (flows.purpose); None: read.
    purpose: str | None = None
    # Whom to ask for help: a Slack user or channel id, a URL or an email address.
    support_contact: str | None = None

    def offers(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms


@dataclass(frozen=True)
class OwnerChanged:
    info: CredentialInfo
    previous: str


@dataclass(frozen=True)
class OwnerTaken:
    """The new owner already has this very key (same platform and identity) stored."""

    info: CredentialInfo


@dataclass(frozen=True)
class OwnerMoved:
    """Someone else changed the owner first (two admins at once): nothing changed."""

    info: CredentialInfo


def _scope(team_id: str, enterprise_id: str | None) -> sa.ColumnElement[bool]:
    return sa.and_(
        Credential.team_id == team_id,
        Credential.enterprise_id.is_not_distinct_from(enterprise_id),
    )


class WorkspaceAdmin(StoreCore):
    # -- reads ----------------------------------------------------------------------------------
    def list_workspace(
        self, team_id: str, enterprise_id: str | None = None
    ) -> list[CredentialInfo]:
        """Every credential of one workspace (an admin's view), never another's."""
        now = self._now()
        with self._session(write=False) as s:
            creds = s.scalars(
                sa.select(Credential)
                .where(_scope(team_id, enterprise_id))
                .order_by(Credential.platform, Credential.identity, Credential.user_id)
            ).all()
            return self._infos(s, creds, now)

    def workspace_defaults(self, team_id: str, enterprise_id: str | None = None) -> Defaults:
        with self._session(write=False) as s:
            ws = s.get(Workspace, (enterprise_id or "", team_id))
            if ws is None:
                return Defaults()
            return Defaults(
                admin_group=ws.admin_group,
                rotation_days=ws.rotation_days,
                platforms=tuple(ws.platforms) if ws.platforms is not None else None,
                purpose=ws.purpose,
                support_contact=ws.support_contact,
            )

    # -- writes ---------------------------------------------------------------------------------
    def set_workspace_defaults(
        self, team_id: str, enterprise_id: str | None, defaults: Defaults, *, actor: str
    ) -> None:
        """Replace the workspace's defaults (a row is made for single-token workspaces too)."""
        now = self._now()
        with self._session(write=True) as s:
            ws = s.get(Workspace, (enterprise_id or "", team_id), with_for_update=True)
            if ws is None:
                ws = Workspace(enterprise_id=enterprise_id or "", team_id=team_id, installed_at=now)
                s.add(ws)
            ws.admin_group = defaults.admin_group
            ws.rotation_days = defaults.rotation_days
            ws.platforms = list(defaults.platforms) if defaults.platforms is not None else None
            ws.purpose = defaults.purpose
            ws.support_contact = defaults.support_contact
            platforms = ",".join(defaults.platforms) if defaults.platforms is not None else "all"
            audit.record(
                s, "workspace_defaults", actor=actor, at=now,
                detail=(
                    f"admin; team {team_id}; admin group {defaults.admin_group or 'Slack admins'}; "
                    f"rotation {defaults.rotation_days or 'platform default'} days; "
                    f"platforms {platforms}; purpose {defaults.purpose or 'read'}; "
                    f"contact {defaults.support_contact or 'none'}"
                ),
            )  # fmt: skip

    def set_owner(
        self,
        credential_id: str,
        new_owner: str,
        *,
        actor: str,
        action: str,
        detail: str,
        only_from: str | None = None,
    ) -> OwnerChanged | OwnerTaken | OwnerMoved | None:
        """Give a credential to another person of its workspace; its reminders follow it and
        the owner-gone mark goes. None when the credential no longer exists; OwnerMoved when
        its owner is no longer `only_from`."""
        now = self._now()
        with self._session(write=True) as s:
            cred = s.get(Credential, credential_id, with_for_update=True)
            if cred is None:
                return None
            if only_from is not None and cred.user_id != only_from:
                return OwnerMoved(self._infos(s, [cred], now)[0])
            clash = s.scalars(
                sa.select(Credential).where(
                    Credential.team_id == cred.team_id,
                    Credential.user_id == new_owner,
                    Credential.platform == cred.platform,
                    Credential.identity == cred.identity,
                    Credential.id != cred.id,
                )
            ).first()
            if clash is not None:
                return OwnerTaken(self._infos(s, [clash], now)[0])
            previous = cred.user_id
            cred.user_id = new_owner
            cred.owner_gone_at = None
            audit.record(
                s, action, actor=actor, at=now, cred=cred,
                detail=f"{detail}; from {previous} to {new_owner}",
            )  # fmt: skip
            s.flush()
            return OwnerChanged(self._infos(s, [cred], now)[0], previous)

    def mark_owner_gone(
        self,
        team_id: str,
        user_id: str,
        *,
        enterprise_id: str | None = None,
        actor: str,
        reason: str,
    ) -> list[str]:
        """The owner was deactivated or cannot be messaged: their credentials' reminders go to
        the admins from now on. Returns the ids newly marked (already-marked ones are left)."""
        now = self._now()
        with self._session(write=True) as s:
            query = sa.select(Credential).where(
                _scope(team_id, enterprise_id),
                Credential.user_id == user_id,
                Credential.owner_gone_at.is_(None),
            )
            marked = []
            for cred in s.scalars(query.with_for_update()).all():
                cred.owner_gone_at = now
                audit.record(s, "owner_gone", actor=actor, at=now, cred=cred, detail=reason)
                marked.append(cred.id)
            return marked
