"""The tool API does not pay for strangers: a bad token costs no write transaction, an address
that keeps failing gets 429 with Retry-After before any lookup, a long-poll ends when its
client hangs up and is capped per token, every query parameter out of bounds is a 400 (never a
500), and uninstalling a workspace revokes its tokens and removes its webhook."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bot.http.api import FAILED_AUTH_PER_MINUTE, WAITS_PER_TOKEN
from tests.slack_standin import TEAM_ID

pytest_plugins = ("tests.bot_fixtures",)


def get(bot, path: str, token: str | None = None, *, source: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    # Each test calls from its own loopback address, so per-address limits stay its own.
    transport = httpx.HTTPTransport(local_address=source) if source else None
    with httpx.Client(transport=transport, timeout=40) as client:
        return client.get(bot.url + path, headers=headers)


@contextmanager
def counting_sessions(store) -> Iterator[dict[str, int]]:
    counts = {"write": 0, "read": 0}
    original = store._session

    def counted(*, write: bool):  # type: ignore[no-untyped-def]
        counts["write" if write else "read"] += 1
        return original(write=write)

    store._session = counted
    try:
        yield counts
    finally:
        del store._session


def test_a_bad_token_opens_no_write_transaction(bot) -> None:
    token, _ = bot.runtime.store.create_api_token(TEAM_ID, "writes")
    with counting_sessions(bot.runtime.store) as counts:
        for n in range(10):
            bad = get(bot, "/api/v1/credentials", f"gkt_not-a-token-{n:04d}", source="127.0.0.5")
            assert bad.status_code == 401
    assert counts["write"] == 0  # what is printed below is the figure for the report
    print(f"per bad token: {counts['write'] / 10:g} write, {counts['read'] / 10:g} read sessions")
    with counting_sessions(bot.runtime.store) as counts:
        assert get(bot, "/api/v1/credentials", token, source="127.0.0.5").status_code == 200
        assert get(bot, "/api/v1/credentials", token, source="127.0.0.5").status_code == 200
    assert counts["write"] <= 1  # a known token's use is recorded once a minute at most


def test_failed_authentications_are_limited_per_address(bot) -> None:
    token, _ = bot.runtime.store.create_api_token(TEAM_ID, "limited")
    answers = []
    for n in range(FAILED_AUTH_PER_MINUTE * 2):  # the budget refills a little meanwhile
        answers.append(get(bot, "/api/v1/credentials", f"gkt_guess-{n}", source="127.0.0.6"))
        if answers[-1].status_code != 401:
            break
    *failed, refused = answers
    assert len(failed) >= FAILED_AUTH_PER_MINUTE
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # Other addresses are not affected.
    assert get(bot, "/api/v1/credentials", token, source="127.0.0.7").status_code == 200


def test_every_query_parameter_is_bounds_checked(bot) -> None:
    token, _ = bot.runtime.store.create_api_token(TEAM_ID, "bounds")
    for query in (
        f"cursor={2**63}", "cursor=-1", "cursor=1e3", "cursor=%D9%A1", "cursor=" + "9" * 5000,
        "limit=0", "limit=501", "limit=abc", "wait=nan", "wait=inf", "wait=-1", "wait=31",
        "wait=1e999",
    ):
        answer = get(bot, f"/api/v1/changes?{query}", token, source="127.0.0.8")
        assert answer.status_code == 400, query
        assert "must be" in answer.json()["error"], query
    assert get(bot, "/api/v1/changes?cursor=0&limit=500&wait=0", token,
               source="127.0.0.8").status_code == 200


def open_long_poll(bot, token: str, cursor: int) -> socket.socket:
    host, port = bot.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(
        f"GET /api/v1/changes?cursor={cursor}&wait=30 HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


def wait_for(check, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not check():
        time.sleep(0.05)
    return bool(check())


def test_long_polls_end_with_their_client_and_are_capped_per_token(bot, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.http")
    token, _ = bot.runtime.store.create_api_token(TEAM_ID, "poller")
    cursor = get(bot, "/api/v1/changes?limit=500", token, source="127.0.0.9").json()["cursor"]
    cursor += 10**6  # past anything that will happen during the test: every poll waits
    polls = [open_long_poll(bot, token, cursor) for _ in range(WAITS_PER_TOKEN)]
    try:
        # The cap counts polls that are waiting: wait until all of them are, then one more.
        assert wait_for(lambda: _waiting(bot) == WAITS_PER_TOKEN)
        extra = get(bot, f"/api/v1/changes?cursor={cursor}&wait=30", token, source="127.0.0.9")
        assert extra.status_code == 429 and "long-polls" in extra.json()["error"]
    finally:
        for sock in polls:
            sock.close()
    # Each hung-up client's poll ends (its request line says so), long before its 30 s.
    gone = lambda: sum(  # noqa: E731
        1 for r in caplog.records if r.getMessage() == "http request"
        and getattr(r, "client_gone", False)
    )
    assert wait_for(lambda: gone() == WAITS_PER_TOKEN), gone()
    assert _waiting(bot) == 0


def _waiting(bot) -> int:  # type: ignore[no-untyped-def]
    from bot.http import api

    return sum(sum(a.waiting.values()) for a in api.LIVE)


def test_uninstalling_revokes_tokens_and_removes_the_webhook(bot) -> None:
    store = bot.runtime.store
    token, _ = store.create_api_token("T0GONE", "tool")
    store.set_webhook("T0GONE", "https://tool.example.com/hooks")
    assert store.authenticate(token) is not None
    store.uninstall(None, "T0GONE", actor="slack:app_uninstalled")
    assert store.authenticate(token) is None
    assert "T0GONE" not in {h.team_id for h in store.webhooks()}
    assert any("1 API token(s) revoked, 1 webhook(s) removed" in e.detail
               for e in store.audit_events())
