"""Builders the tests share: a stored key, a sweep as if later, a credential read model, and the
local platform server of a flow test. One definition each, so a change to how a key is stored
or swept is made once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.store import CredentialInfo, Store
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def store_key(
    bot: RunningBot,
    *,
    team: str | None = None,
    user: str | None = None,
    store_name: str = "The Plant Shop",
    account: str = wix.ACCOUNT,
    expires_in: timedelta | None = None,
    enterprise: str | None = None,
    told: bool = False,
) -> CredentialInfo:
    """A verified Wix key stored for `user` of `team` (the bot's own person by default), as if
    submitted through the form; `told`: its "stored" confirmation already went out."""
    expires = datetime.now(UTC) + expires_in if expires_in is not None else None
    info = bot.runtime.store.save(
        team_id=team or bot.slack.team_id, user_id=user or bot.slack.user_id,
        enterprise_id=enterprise, flow=catalog.get("wix"),
        values={**wix.good_values(), "account_id": account},
        result=VerifyResult(ok=True, store_name=store_name, expires_at=expires),
    ).credential  # fmt: skip
    if told:
        confirmed(bot.runtime.store, info.id)
    return info


def confirmed(store: Store, credential_id: str) -> None:
    """As if the "stored" confirmation DM had gone out at submission time."""
    for item in store.outbox_pending(credential_id):
        if item.kind in ("stored", "replaced"):
            store.outbox_sent(item.id)


def sweep(bot: RunningBot, later: timedelta) -> list[Any]:
    """One reminder sweep of the running bot as if `later` had passed: what it sent."""
    return bot.on_loop(bot.runtime.sweep.run(datetime.now(UTC) + later))  # type: ignore[no-any-return]


def credential_info(**changes: Any) -> CredentialInfo:
    """A credential read model with plain values, for renderers."""
    base: dict[str, Any] = dict(
        id="c1", team_id="T0GETKEY1", user_id="U0PERSON1", platform="wix", identity="acct",
        store_name="Shop <b>", identifiers={}, masked="••••••abcd", status="verified",
        verified_at=START, last_checked_at=START, detail="", expires_at=None,
        rotation_days=90, rotation_due_at=None, next_reminder_at=None, created_at=START,
        rotated_at=None, reminders_stopped=False, snoozed_until=None,
    )  # fmt: skip
    base.update(changes)
    return CredentialInfo(**base)


def platform_server(module: Any) -> Iterator[Any]:
    """A flow test's local platform server (tests/platforms/<id>.py `serve()`), stopped after."""
    server = module.serve()
    try:
        yield server
    finally:
        server.stop()
