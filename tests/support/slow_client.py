"""Raw-socket clients that misbehave slowly, for the slow-client limits (DESIGN §11). Every wait is
bounded by a generous socket timeout: a server that holds the connection fails the test by timing out."""

from __future__ import annotations

import socket
import time

HOLD_LIMIT_S = 20.0  # far above the limits the tests configure; reaching it means the server held on


def _connect(url: str, hold_s: float = HOLD_LIMIT_S) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=hold_s)
    sock.settimeout(hold_s)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; socket.timeout when it holds the connection."""
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def silent(url: str) -> bytes:
    """Connect and send nothing."""
    with _connect(url) as sock:
        return _read_until_closed(sock)


def dribble(url: str, head: bytes, pieces: list[bytes], gap_s: float, hold_s: float = HOLD_LIMIT_S) -> bytes:
    """Send `head`, then one piece every `gap_s` while the server keeps the connection open; then wait
    up to `hold_s` for the server to close."""
    with _connect(url, hold_s) as sock:
        sock.sendall(head)
        for piece in pieces:
            time.sleep(gap_s)
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            return _read_until_closed(sock)
        except ConnectionResetError:
            return b""


def idle_after_request(url: str, path: str, hold_s: float) -> bytes:
    """One keep-alive request, then silence: everything the server sent until it closed."""
    with _connect(url, hold_s) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        return _read_until_closed(sock)
