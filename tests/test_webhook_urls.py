"""Where a webhook may point, checked at `getkey webhooks set` and again before each send
after DNS resolution (a resolver is injected, so no test touches real DNS): https, a valid
port, no credentials in the URL, and no loopback, link-local, private, multicast or
unspecified address, unless GETKEY_WEBHOOK_ALLOW_PRIVATE allows private and loopback ones."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import Engine

from bot.cli.main import main
from bot.jobs.webhooks import WebhookSender
from bot.store import Store
from bot.webhook_urls import UrlRefused, check_url
from bot.workers import Workers
from tests.storage_fixtures import KEY_A, TWO, Backend, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def check(url: str, *addresses: str, allow: bool = False) -> str:
    """'ok' or the reason the policy gives."""
    try:
        asyncio.run(check_url(url, allow_private=allow, resolver=resolving_to(*addresses)))
    except UrlRefused as exc:
        return str(exc)
    return "ok"


PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    ("url", "addresses", "refused_because"),
    [
        ("https://hooks.example.com/x", [PUBLIC], None),
        ("https://hooks.example.com:8443/x", [PUBLIC, "2606:2800:220:1::1"], None),
        ("http://hooks.example.com/x", [PUBLIC], "https"),
        ("https://hooks.example.com:abc/", [PUBLIC], "port"),
        ("https://hooks.example.com:70000/", [PUBLIC], "port"),
        ("https://user:pass@hooks.example.com/", [PUBLIC], "password"),
        ("https://127.0.0.1/x", ["127.0.0.1"], "loopback"),
        ("https://[::1]/x", ["::1"], "loopback"),
        ("https://169.254.169.254/latest/meta-data", ["169.254.169.254"], "link-local"),
        ("https://10.1.2.3/", ["10.1.2.3"], "private"),
        ("https://0.0.0.0/", ["0.0.0.0"], "unspecified"),
        ("https://[::ffff:127.0.0.1]/", ["::ffff:127.0.0.1"], "loopback"),
        # A public name that resolves inside (or to several addresses, one of them inside).
        ("https://hooks.example.com/", ["192.168.1.5"], "private"),
        ("https://hooks.example.com/", [PUBLIC, "127.0.0.1"], "loopback"),
        ("https://hooks.example.com/", ["224.0.0.1"], "multicast"),
        ("https://hooks.example.com/", [], "does not resolve"),
    ],
)
def test_the_policy_without_private_receivers(
    url: str, addresses: list[str], refused_because: str | None
) -> None:
    answer = check(url, *addresses)
    if refused_because is None:
        assert answer == "ok"
    else:
        assert refused_because in answer and "pass" not in answer.replace("password", "")


def test_allowing_private_receivers_never_allows_credentials_or_metadata() -> None:
    assert check("http://127.0.0.1:8080/hooks", "127.0.0.1", allow=True) == "ok"
    assert check("http://hooks.internal/", "10.0.0.7", allow=True) == "ok"
    assert "password" in check("https://u:p@hooks.internal/", "10.0.0.7", allow=True)
    assert "link-local" in check("http://169.254.169.254/", "169.254.169.254", allow=True)
    assert "multicast" in check("http://hooks.internal/", "239.1.1.1", allow=True)


def test_set_refuses_inside_addresses_unless_allowed(
    backend: Backend, engine: Engine, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", backend.url)
    monkeypatch.setenv("GETKEY_ENCRYPTION_KEYS", KEY_A)
    monkeypatch.delenv("GETKEY_WEBHOOK_ALLOW_PRIVATE", raising=False)

    def webhooks(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["webhooks", *args])
        out, err = capsys.readouterr()
        return code, out, err

    for url in ("http://127.0.0.1:9/x", "https://169.254.169.254/", "https://[::1]/",
                "https://user:hunter2@hooks.example.com/", "http://hooks.example.com:abc/"):
        code, out, err = webhooks("set", "--team", "T1", "--url", url)
        assert code == 2 and "Nothing was changed" in err and out == "", url
        assert "hunter2" not in err
    assert webhooks("list")[1] == "No webhooks.\n"

    monkeypatch.setenv("GETKEY_WEBHOOK_ALLOW_PRIVATE", "true")
    code, out, _ = webhooks("set", "--team", "T1", "--url", "http://127.0.0.1:9/x")
    assert code == 0 and out.startswith("whsec_")
    code, _, err = webhooks("set", "--team", "T1", "--url", "https://user:hunter2@10.0.0.1/")
    assert code == 2 and "hunter2" not in err
    assert "127.0.0.1:9" in webhooks("list")[1]


def test_the_send_checks_again_after_resolution(store: Store, clock: Clock) -> None:
    """A name that resolved outside when it was set but resolves inside now is not called."""
    store.set_webhook("T1", "https://hooks.example.com/x")
    store.save(team_id="T1", user_id="U1", flow=TWO, values=two_values(1), result=ok())
    workers = Workers(slow_threads=2, quick_threads=2)
    hooks = WebhookSender(store, workers, clock=clock, resolver=resolving_to("169.254.169.254"))
    try:
        assert [s for _, s in asyncio.run(hooks.drain())] == [0]
    finally:
        workers.close()
    (info,) = store.deliveries("T1")
    assert "link-local" in info.tries[0][2] and not info.delivered
