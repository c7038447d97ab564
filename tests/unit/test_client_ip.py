"""Source IP: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import pytest

from vmx_app.client_ip import parse_networks, source_ip

TRUSTED = parse_networks("10.0.0.0/8, 127.0.0.1")


@pytest.mark.parametrize(("peer", "xff", "trusted", "expected"), [
    ("8.8.8.8", "1.2.3.4", TRUSTED, "8.8.8.8"),           # untrusted peer: header ignored
    ("127.0.0.1", "1.2.3.4", (), "127.0.0.1"),            # no trusted proxies configured
    ("127.0.0.1", "1.2.3.4", TRUSTED, "1.2.3.4"),
    ("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.1.1", TRUSTED, "1.2.3.4"),  # rightmost untrusted hop wins
    ("127.0.0.1", "not-an-ip", TRUSTED, "127.0.0.1"),     # garbled header not believed
    ("127.0.0.1", None, TRUSTED, "127.0.0.1"),
    ("127.0.0.1", "10.2.2.2", TRUSTED, "10.2.2.2"),       # only proxies: the first hop
])
def test_source_ip(peer: str, xff: str | None, trusted: tuple, expected: str) -> None:
    assert source_ip(peer, xff, trusted) == expected


def test_bad_cidr_is_named() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        parse_networks("10.0.0.0/8,nope")
