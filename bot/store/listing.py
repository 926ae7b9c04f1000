"""Pages of credentials: one person's keys or a whole workspace's (admins), filtered by words,
read a page at a time in one indexed query.

A page is an offset and a limit over a fixed order (platform, identity[, owner]) that the
owner's unique index (team_id, user_id, platform, identity) and ix_credential_team_listing
serve; the same query returns the total count (a window function) and each row's next
reminder (a correlated subquery), so a page costs one statement whatever the number of keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.store.base import StoreCore, from_db
from bot.store.info import EXPIRING_WITHIN, CredentialInfo
from bot.store.models import Credential, Reminder

STATUSES = ("verified", "failing", "expiring", "expired")


@dataclass(frozen=True)
class Term:
    """One searched word and what it may stand for: text in the store's name or address,
    platform ids whose names contain it, shown statuses it names, or an owner's user id."""

    text: str
    platforms: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    infos: list[CredentialInfo]
    offset: int  # how many come before the first of `infos` in the same order
    total: int  # how many match, on every page

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.infos) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def _like(column: sa.ColumnElement[str | None], text: str) -> sa.ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(sa.func.coalesce(column, "")).like(f"%{escaped}%", escape="\\")


def _status_is(status: str, now: datetime) -> sa.ColumnElement[bool]:
    """The shown status (bot.store.info.status_of) as a condition on the row."""
    soon = now + EXPIRING_WITHIN
    expires = Credential.expires_at
    not_expired = sa.or_(expires.is_(None), expires > now)
    if status == "expired":
        return sa.and_(expires.is_not(None), expires <= now)
    if status == "failing":
        return sa.and_(Credential.status == "failing", not_expired)
    if status == "expiring":
        return sa.and_(Credential.status != "failing", expires > now, expires <= soon)
    return sa.and_(Credential.status != "failing", sa.or_(expires.is_(None), expires > soon))


def _matches(term: Term, now: datetime) -> sa.ColumnElement[bool]:
    text = term.text.lower()
    options = [
        _like(Credential.identity, text),
        _like(Credential.store_name, text),
        Credential.user_id == term.text.upper(),
    ]
    if term.platforms:
        options.append(Credential.platform.in_(term.platforms))
    options += [_status_is(s, now) for s in term.statuses if s in STATUSES]
    return sa.or_(*options)


def _next_reminder() -> sa.ScalarSelect[datetime]:
    return (
        sa.select(sa.func.min(Reminder.due_at))
        .where(
            Reminder.credential_id == Credential.id,
            Reminder.sent_at.is_(None),
            Reminder.credential_version == Credential.version,
        )
        .scalar_subquery()
    )


class Listing(StoreCore):
    def page_for_user(
        self,
        team_id: str,
        user_id: str,
        enterprise_id: str | None = None,
        *,
        terms: tuple[Term, ...] = (),
        offset: int = 0,
        limit: int = 20,
    ) -> Page:
        """One person's keys in /getkey list order (platform, then store), every term matched."""
        scope = sa.and_(
            Credential.team_id == team_id,
            Credential.user_id == user_id,
            Credential.enterprise_id.is_not_distinct_from(enterprise_id),
        )
        return self._page(scope, (Credential.platform, Credential.identity), terms, offset, limit)

    def page_workspace(
        self,
        team_id: str,
        enterprise_id: str | None = None,
        *,
        terms: tuple[Term, ...] = (),
        offset: int = 0,
        limit: int = 20,
    ) -> Page:
        """Every key of one workspace (an admin's view), never another's."""
        scope = sa.and_(
            Credential.team_id == team_id,
            Credential.enterprise_id.is_not_distinct_from(enterprise_id),
        )
        order = (Credential.platform, Credential.identity, Credential.user_id)
        return self._page(scope, order, terms, offset, limit)

    def _page(
        self,
        scope: sa.ColumnElement[bool],
        order: tuple[sa.ColumnElement[str], ...],
        terms: tuple[Term, ...],
        offset: int,
        limit: int,
    ) -> Page:
        now = self._now()
        offset = max(0, offset)
        query = (
            sa.select(
                Credential,
                _next_reminder().label("upcoming"),
                sa.func.count().over().label("total"),
            )
            .where(scope, *(_matches(t, now) for t in terms))
            .order_by(*order)
            .offset(offset)
            .limit(max(1, limit))
        )
        with self._session(write=False) as s:
            rows = s.execute(query).all()
            if not rows and offset:
                # Past the end (keys deleted since the page was drawn): the total still says
                # where the last page starts.
                total = s.scalar(sa.select(sa.func.count()).select_from(Credential).where(
                    scope, *(_matches(t, now) for t in terms)
                )) or 0
                return Page([], offset=offset, total=total)
            infos = [CredentialInfo.of(c, now, from_db(up)) for c, up, _ in rows]
            return Page(infos, offset=offset, total=rows[0].total if rows else 0)
