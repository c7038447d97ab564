"""The Reflex-hosted server (`vmx run`, granian) cuts off clients that send nothing or send their
request head slowly (VMX_HEADER_READ_TIMEOUT_SECONDS, 10 s by default; granian's own default is 30 s),
and bounds an idle kept-alive connection the same way. The body deadline is the ASGI wrapper both
servers share (tests/integration/test_hardening_peers.py)."""

from __future__ import annotations

from tests.support import slow_client


def test_a_silent_connection_is_closed(console_url: str) -> None:
    slow_client.silent(console_url.replace("localhost", "127.0.0.1"))  # socket.timeout if held 20 s


def test_headers_sent_slowly_are_cut_off(console_url: str) -> None:
    url = console_url.replace("localhost", "127.0.0.1")
    head = b"GET /healthz HTTP/1.1\r\nHost: test\r\n"
    # 15 s of dribbling plus 5 s of waiting: cut off by our 10 s, not by granian's own 30 s.
    answer = slow_client.dribble(url, head, [f"x-slow-{i}: 1\r\n".encode() for i in range(60)], 0.25, hold_s=5)
    assert b"200 OK" not in answer


def test_an_idle_keep_alive_connection_is_closed(console_url: str) -> None:
    answer = slow_client.idle_after_request(console_url.replace("localhost", "127.0.0.1"), "/healthz", hold_s=20)
    assert answer.startswith(b"HTTP/1.1 200")
