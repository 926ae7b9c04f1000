"""API tokens: what a tool presents to read a workspace's credentials.

A token is 256 random bits shown once; only its SHA-256 is stored. Checking a presented token
hashes it, finds the row by that hash, and compares the hashes again with
hmac.compare_digest, so neither the lookup nor the comparison leaks the stored token through
timing (the hash of an unknown random value tells an attacker nothing to refine).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.clock import as_utc
from bot.store.base import StoreCore
from bot.store.sharing_models import ApiToken

TOKEN_PREFIX = "gkt_"
USED_EVERY = timedelta(minutes=1)  # how fresh `last_used_at` is kept


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiTokenInfo:
    id: int
    team_id: str
    name: str
    platforms: tuple[str, ...] | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def actor(self) -> str:
        """The audit actor of what this token does."""
        return f"api:{self.team_id}:{self.name}"

    def allows(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms


def _info(row: ApiToken) -> ApiTokenInfo:
    return ApiTokenInfo(
        id=row.id or 0,
        team_id=row.team_id,
        name=row.name,
        platforms=tuple(row.platforms) if row.platforms is not None else None,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class TokenNameTaken(ValueError):
    """A live token of this workspace already has this name."""


class ApiTokens(StoreCore):
    def create_api_token(
        self, team_id: str, name: str, platforms: list[str] | None = None
    ) -> tuple[str, ApiTokenInfo]:
        """A new token: the clear token (show it once, it is not kept) and its record."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        with self._session(write=True) as s:
            taken = s.scalar(
                sa.select(ApiToken.id).where(
                    ApiToken.team_id == team_id,
                    ApiToken.name == name,
                    ApiToken.revoked_at.is_(None),
                )
            )
            if taken is not None:
                raise TokenNameTaken(f"workspace {team_id} already has a token named {name!r}")
            row = ApiToken(
                team_id=team_id,
                name=name,
                token_hash=token_hash(token),
                platforms=sorted(set(platforms)) if platforms else None,
                created_at=now,
            )
            s.add(row)
            s.flush()
            return token, _info(row)

    def api_tokens(self, team_id: str | None = None) -> list[ApiTokenInfo]:
        with self._session(write=False) as s:
            query = sa.select(ApiToken).order_by(ApiToken.team_id, ApiToken.id)
            if team_id:
                query = query.where(ApiToken.team_id == team_id)
            return [_info(r) for r in s.scalars(query)]

    def revoke_api_token(self, team_id: str, name: str) -> bool:
        """Revoke the live token named `name`; False when there is none."""
        now = self._now()
        with self._session(write=True) as s:
            done = s.execute(
                sa.update(ApiToken)
                .where(
                    ApiToken.team_id == team_id,
                    ApiToken.name == name,
                    ApiToken.revoked_at.is_(None),
                )
                .values(revoked_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(done.rowcount)

    def any_api_token(self) -> bool:
        """Whether a token was ever created: the API answers nothing before (404). A revoked
        token still gets its 401, so its holder learns why it stopped working."""
        with self._session(write=False) as s:
            return s.scalar(sa.select(ApiToken.id).limit(1)) is not None

    def authenticate(self, presented: str) -> ApiTokenInfo | None:
        """The live token matching `presented`; None otherwise. The lookup only reads, so a
        stranger's guesses never take the write lock; a known token's use is recorded at most
        once a minute (a write only then)."""
        if not presented.startswith(TOKEN_PREFIX) or len(presented) > 200:
            return None
        digest = token_hash(presented)
        with self._session(write=False) as s:
            row = s.scalars(sa.select(ApiToken).where(ApiToken.token_hash == digest)).first()
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            if row.revoked_at is not None:
                return None
            info = _info(row)
        now = self._now()
        last = as_utc(info.last_used_at) if info.last_used_at else None
        if last is None or now - last >= USED_EVERY:
            with self._session(write=True) as s:
                s.execute(
                    sa.update(ApiToken).where(ApiToken.id == info.id).values(last_used_at=now)
                    .execution_options(synchronize_session=False)
                )
            info = replace(info, last_used_at=now)
        return info
