"""Slack's Socket Mode endpoint for the test suite: a small WebSocket server over a real socket.

Written with the standard library only (RFC 6455: handshake, masked client frames, text frames,
fragmentation, ping/pong, close), strict where a real server is strict, so that a client that
breaks the protocol fails a test instead of passing against a lenient fake:
- the upgrade request must carry the connection ticket apps.connections.open handed out;
- every client frame must be masked and have the reserved bits clear (else close 1002).

What it does, as Slack does: sends {"type": "hello"} on connect, delivers envelopes the test
pushes, collects the acks ({"envelope_id", "payload"?}) the app sends back, answers pings, and
can ask the app to move to a new connection ({"type": "disconnect"}), as Slack does every few
hours.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HANDSHAKE = 16 * 1024
MAX_MESSAGE = 1024 * 1024


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A server frame: never masked (RFC 6455 §5.1)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class ProtocolError(Exception):
    """The client broke RFC 6455; the connection is closed with 1002."""


@dataclass
class Peer:
    """One WebSocket connection from the app."""

    sock: socket.socket
    number: int
    path: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)  # text frames, parsed
    pings: list[bytes] = field(default_factory=list)  # payloads of the client's pings
    pongs: list[bytes] = field(default_factory=list)  # payloads of the client's pongs
    close_code: int | None = None  # from the client's close frame, if it sent one
    closed: bool = False
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, opcode: int, payload: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(encode_frame(opcode, payload))

    def send_json(self, message: dict[str, Any]) -> None:
        self.send(OP_TEXT, json.dumps(message).encode())

    def recv_exact(self, n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the client went away")
            data += chunk
        return bytes(data)

    def read_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self.recv_exact(2)
        if b1 & 0x70:
            raise ProtocolError("reserved bits set without an extension")
        if not b2 & 0x80:
            raise ProtocolError("client frame not masked")
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self.recv_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self.recv_exact(8))
        if n > MAX_MESSAGE:
            raise ProtocolError("frame too large")
        mask = self.recv_exact(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.recv_exact(n)))
        return bool(b1 & 0x80), b1 & 0x0F, data


class SocketStandIn:
    """A Socket Mode endpoint on a free port. Use `url` as apps.connections.open's answer."""

    def __init__(self, app_id: str = "A0GETKEY1") -> None:
        self.app_id = app_id
        # Slack's URL carries a short-lived ticket; a connection without it is refused.
        self.ticket = secrets.token_hex(12)
        self.peers: list[Peer] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.rejected: list[str] = []  # why upgrade requests were refused
        self.protocol_errors: list[str] = []
        self._retiring: list[Peer] = []  # told to reconnect; dropped once a new peer is up
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        port = self._server.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={self.ticket}&app_id={self.app_id}"

    def start(self) -> SocketStandIn:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            peers = list(self.peers)
        for peer in peers:
            self._drop(peer)
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> SocketStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- what the test does -------------------------------------------------------------
    def wait_for_connection(self, count: int = 1, timeout: float = 20.0) -> Peer:
        """The `count`-th connection once its handshake is done (hello already sent)."""
        return self._wait(lambda: self.peers[count - 1] if len(self.peers) >= count else None,
                          timeout, f"connection #{count}")

    @property
    def current(self) -> Peer:
        with self._cond:
            live = [p for p in self.peers if not p.closed]
        assert live, "the app is not connected"
        return live[-1]

    def push(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = True,
             retry_attempt: int = 0) -> str:
        """Deliver one envelope on the newest connection; returns its envelope_id."""
        envelope_id = f"{next(self._ids):04d}-{secrets.token_hex(8)}"
        self.current.send_json({
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": "",
        })
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        return self._wait(lambda: self.acks.get(envelope_id), timeout, f"ack of {envelope_id}")

    def ping(self, payload: bytes = b"standin", timeout: float = 20.0) -> bytes:
        """Ping the app as Slack does; returns the matching pong's payload."""
        peer = self.current
        peer.send(OP_PING, payload)
        return self._wait(lambda: payload if payload in peer.pongs else None, timeout,
                          "pong")

    def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's warning before it drops a connection: the app must open a new one. The old
        connection is dropped as soon as the new one is up (Slack waits a few seconds)."""
        peer = self.current
        with self._cond:
            self._retiring.append(peer)
        peer.send_json({"type": "disconnect", "reason": reason,
                        "debug_info": {"host": "standin"}})

    def _wait(self, probe: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = probe()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {what} within {timeout}s (rejected: {self.rejected}, "
                        f"protocol errors: {self.protocol_errors})"
                    )
                self._cond.wait(min(left, 0.2))

    # -- the server side ----------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        peer = Peer(sock, number=0)
        try:
            if not self._handshake(peer):
                sock.close()
                return
            with self._cond:
                self.peers.append(peer)
                peer.number = len(self.peers)
                retiring, self._retiring = self._retiring, []
                self._cond.notify_all()
            for old in retiring:
                self._drop(old)
            peer.send_json({
                "type": "hello",
                "num_connections": peer.number,
                "debug_info": {"host": "standin", "build_number": 1,
                               "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            })
            self._read_loop(peer)
        except ProtocolError as exc:
            with self._cond:
                self.protocol_errors.append(str(exc))
            self._close(peer, 1002)
        except OSError:
            pass  # the app went away (terminated, or we dropped it)
        finally:
            self._drop(peer)

    def _handshake(self, peer: Peer) -> bool:
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = peer.sock.recv(1024)
            if not chunk or len(raw) > MAX_HANDSHAKE:
                return False
            raw += chunk
        head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        method, path, _version = [*request_line.split(" "), "", ""][:3]
        problem = self._refusal(method, path, headers)
        if problem:
            with self._cond:
                self.rejected.append(problem)
                self._cond.notify_all()
            status = "401 Unauthorized" if "ticket" in problem else "400 Bad Request"
            peer.sock.sendall(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n".encode())
            return False
        peer.path = path
        peer.sock.sendall(
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(headers['sec-websocket-key'])}\r\n\r\n".encode()
        )
        return True

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> str | None:
        if method != "GET":
            return f"method {method}"
        if headers.get("upgrade", "").lower() != "websocket":
            return "no Upgrade: websocket"
        if "upgrade" not in headers.get("connection", "").lower():
            return "no Connection: Upgrade"
        if headers.get("sec-websocket-version") != "13":
            return "Sec-WebSocket-Version is not 13"
        try:
            key_ok = len(base64.b64decode(headers.get("sec-websocket-key", ""),
                                          validate=True)) == 16
        except ValueError:
            key_ok = False
        if not key_ok:
            return "bad Sec-WebSocket-Key"
        parts = urlsplit(path)
        if parts.path != "/link/" or parse_qs(parts.query).get("ticket") != [self.ticket]:
            return "wrong path or ticket"
        return None

    def _read_loop(self, peer: Peer) -> None:
        pieces: list[bytes] = []
        while not peer.closed:
            fin, opcode, data = peer.read_frame()
            if opcode >= 0x8:  # control frames: never fragmented, at most 125 bytes
                if not fin or len(data) > 125:
                    raise ProtocolError("bad control frame")
                if opcode == OP_PING:
                    with self._cond:
                        peer.pings.append(data)
                    peer.send(OP_PONG, data)
                elif opcode == OP_PONG:
                    with self._cond:
                        peer.pongs.append(data)
                        self._cond.notify_all()
                elif opcode == OP_CLOSE:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                    with self._cond:
                        peer.close_code = code
                    self._close(peer, 1000)
                    return
                else:
                    raise ProtocolError(f"unknown opcode {opcode}")
                continue
            if opcode == OP_CONT:
                if not pieces:
                    raise ProtocolError("continuation without a first frame")
            elif opcode == OP_TEXT:
                if pieces:
                    raise ProtocolError("new message inside a fragmented one")
            else:
                raise ProtocolError(f"unexpected opcode {opcode} (Slack speaks text)")
            pieces.append(data)
            if fin:
                self._received(peer, b"".join(pieces))
                pieces = []

    def _received(self, peer: Peer, data: bytes) -> None:
        try:
            message = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ProtocolError("text frame is not JSON") from exc
        with self._cond:
            peer.messages.append(message)
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            if envelope_id:
                self.acks[envelope_id] = message
            self._cond.notify_all()

    def _close(self, peer: Peer, code: int) -> None:
        try:
            peer.send(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass

    def _drop(self, peer: Peer) -> None:
        with self._cond:
            if peer.closed:
                return
            peer.closed = True
            self._cond.notify_all()
        try:
            peer.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        peer.sock.close()
