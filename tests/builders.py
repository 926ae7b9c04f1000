"""Builders the tests share: a stored key, a sweep as if later, a credential read model, and the
local platform server of a flow test. One definition each, so a change to how a key is stored
or swept is made once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.store import CredentialInfo, Store
from flows import catalog
from flows.base import Flow, VerifyResult
from tests.conftest import check_and_verify
from tests.platforms import wix

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def store_key(
    bot: RunningBot,
    team: str | None = None,
    user: str | None = None,
    store_name: str = "The Plant Shop",
    *,
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


def platform_fixtures(
    make: Callable[[], Any], *, reset: Callable[[Any], None] | None = None, **clean: Any
) -> tuple[Any, Any]:
    """The `shared_server` and `server` fixtures of a flow test: one local platform server for
    the module (starting and stopping one costs half a second each), handed to each test with a
    clean slate: no recorded requests, no fault (or `reset(server)`), and the `clean` attributes
    set back. Use: `shared_server, server = platform_fixtures(WixServer)`."""

    @pytest.fixture(scope="module", name="shared_server")
    def shared_server() -> Iterator[Any]:
        with make() as started:
            yield started

    @pytest.fixture(name="server")
    def server(shared_server: Any) -> Any:
        if reset is not None:
            reset(shared_server)
        else:
            shared_server.requests.clear()
            shared_server.fault = None
        for name, value in clean.items():
            setattr(shared_server, name, value)
        return shared_server

    return shared_server, server


def own_platform_server(make: Callable[[], Any]) -> Any:
    """The `server` fixture of a flow test whose server keeps state a test changes: a new
    local platform server for each test."""

    @pytest.fixture(name="server")
    def server() -> Iterator[Any]:
        with make() as started:
            yield started

    return server


def flow_runner(flow: Flow, good_values: Callable[[], dict[str, str]]) -> Callable[..., Any]:
    """`run(server, **overrides)`: the flow's format check then its live verification against
    `server`, with the platform module's good values and `overrides`."""

    def run(server: Any, **overrides: str) -> VerifyResult:
        return check_and_verify(flow, server, {**good_values(), **overrides})

    return run
