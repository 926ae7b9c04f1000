"""SIGTERM on the HTTP edge (bot.http.serving.run_server) as a PaaS sends it: the request in flight
is
answered, background work started by a request is awaited through `on_shutdown`, and the
process exits 0 after its own clean-up ran."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
WAIT = 20.0

SERVER = textwrap.dedent("""
    import asyncio, socket, sys
    from slack_bolt.async_app import AsyncApp
    from bot.http.serving import run_server
    from bot.http.edge import Response, Route, make_asgi_app

    pending = set()

    async def slow(request):
        async def background():  # like a verification that outlives its ack
            await asyncio.sleep(1.0)
            print("background finished", flush=True)
        task = asyncio.create_task(background())
        pending.add(task)
        await asyncio.sleep(0.8)
        return Response(200, b"slow answer")

    async def health():
        return True, {}

    async def on_shutdown():
        await asyncio.gather(*pending)
        print("on_shutdown done", flush=True)

    bolt = AsyncApp(token="xoxb-0000-unused", signing_secret="s" * 32,
                    request_verification_enabled=False)
    app = make_asgi_app(bolt_app=bolt, signing_secret="s" * 32, health=health,
                        extra_routes=[Route("/slow", slow)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    try:
        run_server(app, "127.0.0.1", 0, sock=sock, on_shutdown=on_shutdown)
    finally:
        print("caller clean-up ran", flush=True)
""")


def test_sigterm_finishes_requests_and_background_work_then_exits_zero(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", SERVER], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        answers: list[httpx.Response] = []
        slow = threading.Thread(target=lambda: answers.append(httpx.get(url + "/slow",
                                                                        timeout=WAIT)))
        slow.start()
        time.sleep(0.3)  # the slow request is in flight
        proc.send_signal(signal.SIGTERM)
        slow.join(WAIT)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert answers and answers[0].status_code == 200 and answers[0].content == b"slow answer"
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines == ["background finished", "on_shutdown done", "caller clean-up ran"], out
    assert "Traceback" not in err
