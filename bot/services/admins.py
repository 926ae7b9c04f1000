"""Workspace admins and owners who leave, Slack-free.

Who is an admin: the members of the user group a workspace's admins picked (workspace
defaults), else Slack's own owners and admins. Answers come from a small port (`Directory`,
implemented over the Web API by bot.slack.directory) and are cached briefly: a person just made
admin waits at most `ttl` seconds, and a Home tab refresh does not cost a users.info call.

Every admin action checks the actor here first (`check` → Admin or NotAdmin) and is audited by
the store with the actor's usual `slack:<team>:<user>` and "admin" in the detail. Take over is
for admins only: the messages that offer it go to admins only, and a credential is worth
guarding even when its owner is gone (a member who wants a key of their own stores one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.services.contact import ContactChoice, ContactError, chosen_contact
from bot.services.credentials import Actor, Done, Gone
from bot.services.search import terms_of
from bot.store.admin import Defaults, OwnerChanged, OwnerMoved, OwnerTaken
from bot.store.info import CredentialInfo
from bot.store.listing import Page
from flows import catalog
from flows.purpose import Purpose

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
DEFAULTS_SECONDS = 30.0
# How long an entry point waits for the defaults before it goes on without them.
DEFAULTS_BUDGET = 1.0
ROTATION_LIMITS = (1, 3650)
# Messages that cannot reach the owner because the account is gone
# (bot.slack.messenger.Undeliverable).
OWNER_GONE_ERRORS = frozenset({"account_inactive", "user_not_found", "user_disabled"})

# Runs blocking store work off the event loop (Runtime.workers.quick).
Run = Callable[..., Awaitable[Any]]


# -- the port -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    user_id: str
    is_admin: bool = False
    is_owner: bool = False
    deleted: bool = False
    is_bot: bool = False


class DirectoryError(Exception):
    """Slack could not answer (down, missing scope, unknown group)."""


class Directory(Protocol):
    async def person(self, team_id: str, user_id: str) -> Person | None:
        """None: no such person in the workspace."""
        ...

    async def admins(self, team_id: str) -> list[Person]:
        """Slack's owners and admins of the workspace (active ones)."""
        ...

    async def group_members(self, team_id: str, group_id: str) -> list[str]:
        ...

    async def groups(self, team_id: str) -> list[tuple[str, str]]:
        """(id, name) of the workspace's user groups."""
        ...


# -- outcomes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Admin:
    """Proof that `actor` was found to be an admin of their workspace."""

    actor: Actor

    @property
    def audit(self) -> str:
        return self.actor.audit


@dataclass(frozen=True)
class NotAdmin:
    actor: Actor


@dataclass(frozen=True)
class Refused:
    """Bad input (a deactivated new owner, an unknown group…): nothing changed. `field` names
    the setting at fault (group, rotation, platforms, purpose, contact) when there is one."""

    reason: str
    field: str | None = None


@dataclass(frozen=True)
class AlreadyHas:
    """The new owner has the same key stored already: nothing changed."""

    info: CredentialInfo


@dataclass(frozen=True)
class DefaultsSaved:
    defaults: Defaults


AdminOutcome = Done | Gone | NotAdmin | Refused | AlreadyHas


def parse_defaults(
    admin_group: str | None, rotation_days: str | int | None, platforms: Iterable[str] | None,
    *, purpose: str | None = None, contact: ContactChoice | None = None,
) -> Defaults | Refused:
    """Workspace defaults from what an admin chose; unknown platforms, periods, purposes and
    contacts that are neither a person, a channel, an https:// address nor an email are
    refused, naming the setting."""
    try:
        support = chosen_contact(contact or ContactChoice())
    except ContactError as exc:
        return Refused(str(exc), "contact")
    chosen_purpose: str | None = None
    if purpose:
        try:
            chosen_purpose = str(Purpose.parse(purpose))
        except ValueError as exc:
            return Refused(str(exc), "purpose")
    days: int | None = None
    if rotation_days not in (None, ""):
        text = str(rotation_days)
        if not text.isdigit() or not ROTATION_LIMITS[0] <= int(text) <= ROTATION_LIMITS[1]:
            return Refused("The rotation period must be a number of days between 1 and 3650.",
                           "rotation")
        days = int(text)
    chosen: tuple[str, ...] | None = None
    if platforms is not None:
        chosen = tuple(dict.fromkeys(str(p) for p in platforms))
        unknown = [p for p in chosen if catalog.get(p) is None or catalog.get(p).id != p]  # type: ignore[union-attr]
        if unknown:
            return Refused("Unknown platform: " + ", ".join(unknown[:3]), "platforms")
        if not chosen:
            chosen = None  # nothing ticked reads as "every platform"
    group = (admin_group or "").strip() or None
    return Defaults(admin_group=group, rotation_days=days, platforms=chosen,
                    purpose=chosen_purpose, support_contact=support)


class Admins:
    """Who the admins are, and the admin use cases (each checks the actor first)."""

    def __init__(
        self,
        store: Any,
        directory: Directory,
        run: Run,
        *,
        ttl: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.directory = directory
        self.run = run
        self.ttl = ttl
        self.monotonic = monotonic
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    # -- cache ----------------------------------------------------------------------------------
    def _cached(self, key: tuple[str, ...], ttl: float) -> Any:
        hit = self._cache.get(key)
        if hit is not None and self.monotonic() - hit[0] < ttl:
            return hit[1]
        return None

    def _keep(self, key: tuple[str, ...], value: Any) -> Any:
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (self.monotonic(), value)
        return value

    def forget(self, team_id: str) -> None:
        """Drop what is cached about a workspace (its defaults or admins just changed)."""
        for key in [k for k in self._cache if len(k) > 1 and k[1] == team_id]:
            self._cache.pop(key, None)

    # -- workspace defaults ---------------------------------------------------------------------
    async def defaults(self, team_id: str, enterprise_id: str | None = None) -> Defaults:
        """The workspace's defaults, cached for a few seconds (read before some acks)."""
        key = ("defaults", team_id, enterprise_id or "")
        found = self._cached(key, DEFAULTS_SECONDS)
        if found is None:
            found = self._keep(
                key, await self.run(self.store.workspace_defaults, team_id, enterprise_id)
            )
        return found  # type: ignore[no-any-return]

    async def defaults_within(
        self, team_id: str, enterprise_id: str | None = None, budget: float = DEFAULTS_BUDGET
    ) -> Defaults:
        """The defaults every Slack entry point applies (platforms offered, rotation period).
        Read before an ack or while a trigger id is fresh, so bounded by `budget`: a database
        that does not answer in time counts as "nothing chosen" (a submission is checked again
        by the service that stores it)."""
        found = self._cached(("defaults", team_id, enterprise_id or ""), DEFAULTS_SECONDS)
        if found is not None:  # the usual case: no read, so no timer and no task either
            return found  # type: ignore[no-any-return]
        try:
            return await asyncio.wait_for(self.defaults(team_id, enterprise_id), budget)
        except Exception as exc:
            log.warning("workspace defaults unread", extra={"error": type(exc).__name__})
            return Defaults()

    # -- who is an admin ------------------------------------------------------------------------
    async def check(self, actor: Actor) -> Admin | NotAdmin:
        if not actor.team_id or not actor.user_id:
            return NotAdmin(actor)
        key = ("admin", actor.team_id, actor.enterprise_id or "", actor.user_id)
        found = self._cached(key, self.ttl)
        if found is None:
            try:
                found = self._keep(key, await self._is_admin(actor))
            except DirectoryError as exc:
                # Not cached: the next try asks again.
                log.warning("admin check failed", extra={"error": str(exc)})
                return NotAdmin(actor)
        return Admin(actor) if found else NotAdmin(actor)

    async def _is_admin(self, actor: Actor) -> bool:
        group = (await self.defaults(actor.team_id, actor.enterprise_id)).admin_group
        if group:
            return actor.user_id in await self.directory.group_members(actor.team_id, group)
        person = await self.directory.person(actor.team_id, actor.user_id)
        return person is not None and not person.deleted and (person.is_admin or person.is_owner)

    async def recipients(
        self, team_id: str, enterprise_id: str | None = None, *, besides: str | None = None
    ) -> list[str]:
        """The admins to tell about a credential whose owner is gone (never that owner).
        Raises DirectoryError when Slack cannot say."""
        key = ("recipients", team_id, enterprise_id or "")
        found = self._cached(key, self.ttl)
        if found is None:
            group = (await self.defaults(team_id, enterprise_id)).admin_group
            if group:
                members = await self.directory.group_members(team_id, group)
            else:
                members = [
                    p.user_id for p in await self.directory.admins(team_id)
                    if not p.deleted and not p.is_bot
                ]  # fmt: skip
            found = self._keep(key, tuple(dict.fromkeys(members)))
        return [u for u in found if u != besides]

    # -- admin use cases ------------------------------------------------------------------------
    async def workspace_page(
        self, actor: Actor, query: str = "", offset: int = 0, limit: int = 20
    ) -> Page | NotAdmin:
        """A page of the workspace's keys matching every word of `query`."""
        checked = await self.check(actor)
        if isinstance(checked, NotAdmin):
            return checked
        terms = terms_of(query)
        page: Page = await self.run(
            lambda: self.store.page_workspace(
                actor.team_id, actor.enterprise_id, terms=terms, offset=offset, limit=limit
            )
        )
        return page

    async def _admin_and_key(
        self, actor: Actor, credential_id: str
    ) -> tuple[Admin, CredentialInfo] | NotAdmin | Gone:
        """The admin and the key of their workspace they act on, else why not."""
        checked = await self.check(actor)
        if isinstance(checked, NotAdmin):
            return checked
        info = await self.run(self.store.get, credential_id) if credential_id else None
        # Another workspace's credential looks exactly like a missing one.
        if info is None or not checked.actor.same_workspace(info):
            return Gone()
        return checked, info

    async def reassign(self, actor: Actor, credential_id: str, new_owner: str) -> AdminOutcome:
        found = await self._admin_and_key(actor, credential_id)
        if not isinstance(found, tuple):
            return found
        checked, info = found
        if not new_owner or new_owner == info.user_id:
            return Refused("That person already owns it.")
        try:
            person = await self.directory.person(actor.team_id, new_owner)
        except DirectoryError:
            return Refused("Slack could not say who that is just now; please try again.")
        if person is None or person.deleted or person.is_bot:
            return Refused("That account is deactivated or is not a person of this workspace.")
        return await self._give(checked, info, new_owner, "reassigned", "admin reassigned")

    async def take_over(self, actor: Actor, credential_id: str) -> AdminOutcome:
        found = await self._admin_and_key(actor, credential_id)
        if not isinstance(found, tuple):
            return found
        checked, info = found
        if info.user_id == actor.user_id:
            return Done(info)  # pressed twice: already theirs
        if info.owner_gone_at is None:
            # Another admin took it over first (or the owner is back): not up for grabs.
            return Refused(f"<@{info.user_id}> owns this key now; nothing to take over.")
        return await self._give(checked, info, actor.user_id, "taken_over", "admin took over")

    async def _give(
        self, admin: Admin, info: CredentialInfo, new_owner: str, action: str, detail: str
    ) -> AdminOutcome:
        changed = await self.run(
            self.store.set_owner, info.id, new_owner, actor=admin.audit, action=action,
            detail=detail, only_from=info.user_id,
        )  # fmt: skip
        if changed is None:
            return Gone()
        if isinstance(changed, OwnerMoved):
            return Refused(f"<@{changed.info.user_id}> owns this key now; nothing changed.")
        if isinstance(changed, OwnerTaken):
            return AlreadyHas(changed.info)
        assert isinstance(changed, OwnerChanged)
        return Done(changed.info)

    async def delete(self, actor: Actor, credential_id: str) -> AdminOutcome:
        found = await self._admin_and_key(actor, credential_id)
        if not isinstance(found, tuple):
            return found
        checked, info = found
        deleted = await self.run(self.store.delete, info.id, actor=checked.audit, note="admin")
        return Done(info) if deleted else Gone()

    async def set_defaults(
        self, actor: Actor, defaults: Defaults
    ) -> DefaultsSaved | NotAdmin | Refused:
        checked = await self.check(actor)
        if isinstance(checked, NotAdmin):
            return checked
        if defaults.admin_group:
            try:
                members = await self.directory.group_members(actor.team_id, defaults.admin_group)
            except DirectoryError:
                return Refused("Slack does not know that user group (or could not say).",
                               "group")
            if actor.user_id not in members:
                # Saving it would take the admin's own rights away with nobody left to undo it.
                return Refused(
                    "You are not a member of that user group: you would no longer be an admin. "
                    "Join it first, or pick a group you are in.", "group",
                )
        await self.run(
            self.store.set_workspace_defaults, actor.team_id, actor.enterprise_id, defaults,
            actor=checked.audit,
        )  # fmt: skip
        self.forget(actor.team_id)
        return DefaultsSaved(defaults)

    # -- owners who leave -----------------------------------------------------------------------
    async def owner_gone(
        self, team_id: str, user_id: str, enterprise_id: str | None, *, reason: str
    ) -> list[str]:
        """Mark a departed owner's credentials: their reminders go to the admins from now on."""
        marked: list[str] = await self.run(
            self.store.mark_owner_gone, team_id, user_id, enterprise_id=enterprise_id,
            actor="getkey", reason=reason,
        )  # fmt: skip
        if marked:
            log.info("owner gone; admins take the reminders", extra={"count": len(marked)})
        return marked
