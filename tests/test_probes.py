"""/livez and /readyz (issue 17): while PostgreSQL cannot be reached, /readyz answers 503 with
the reason and /livez stays 200 (an orchestrator takes the instance out of rotation instead of
restarting it); when the database is back, /readyz is 200 again."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.store.db import make_engine
from tests.bot_fixtures import BOT_TOKEN, start_bot
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackStandIn
from tests.storage_fixtures import POSTGRES_ENV, TABLES

pytest_plugins = ["tests.storage_fixtures", "tests.bot_fixtures"]


class Forwarder:
    """A TCP forwarder on a fixed local port that can be cut (every connection closed, the port
    refusing) and restored, standing in for a database server that goes away."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        assert self._listener is not None
        # shutdown() first: close() alone leaves a thread blocked in accept() holding the port.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._conns.clear()


def ready_until(url: str, status: int, seconds: float = 30.0) -> httpx.Response:
    """The /readyz answer once it has `status` (a pool reconnects on its next use)."""
    deadline = time.monotonic() + seconds
    while True:
        reply = httpx.get(url + "/readyz", timeout=10)
        if reply.status_code == status or time.monotonic() > deadline:
            return reply
        time.sleep(0.2)


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")
def test_readyz_is_503_while_the_database_is_gone_and_livez_stays_200(
    postgres_url: str, tmp_path: Path
) -> None:
    # The worker's schema is shared with the store tests: start from empty tables (rows another
    # test encrypted under its own key would rightly make /readyz fail).
    admin = make_engine(postgres_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    admin.dispose()
    target = make_url(postgres_url)
    proxy = Forwarder(target.host or "127.0.0.1", target.port or 5432)
    proxy.start()
    via = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        bot, stop = start_bot(tmp_path, standin, [wix], extra_env={"DATABASE_URL": via})
        try:
            ready = httpx.get(bot.url + "/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"ok": True, "database": True, "migrations": True,
                                    "keyring": True}
            assert ready.headers["cache-control"] == "no-store"

            proxy.cut()
            down = ready_until(bot.url, 503)
            assert down.status_code == 503, down.text
            assert down.json()["ok"] is False and "database" in down.json()["problem"]
            assert "password" not in down.text and str(proxy.port) not in down.text
            live = httpx.get(bot.url + "/livez")
            assert live.status_code == 200 and live.json() == {"ok": True}

            proxy.start()
            assert ready_until(bot.url, 200).status_code == 200
        finally:
            stop()


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_probes_answer_head_too(bot, path):
    assert httpx.head(bot.url + path).status_code == 200

