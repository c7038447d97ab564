"""The source IP of a request: the socket peer, or X-Forwarded-For when the peer is a trusted proxy.

Used by every route (completion, login throttling, audit rows, `dimension: source-ip` capacity) so a
client can never pick its own source IP by sending a header (DESIGN §11).
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["IPv4Network", "IPv6Network", "parse_networks", "source_ip"]

Networks = tuple[IPv4Network | IPv6Network, ...]


@lru_cache(maxsize=32)
def parse_networks(cidrs: str) -> Networks:
    """`"10.0.0.0/8, 127.0.0.1"` → networks; raises ValueError naming the entry it cannot read."""
    networks: list[IPv4Network | IPv6Network] = []
    for raw in cidrs.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _trusted(ip: IPv4Address | IPv6Address | None, trusted: Networks) -> bool:
    return ip is not None and any(ip in net for net in trusted)


def source_ip(peer: str | None, forwarded_for: str | None, trusted: Networks) -> str | None:
    """Walk X-Forwarded-For from the right, skipping trusted proxies; the first untrusted hop is the
    client. Without a trusted peer the header is ignored."""
    if not trusted or not forwarded_for or not _trusted(_parse_ip(peer or ""), trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _parse_ip(hop)
        if ip is None:
            return peer  # a garbled header is not believed
        if not _trusted(ip, trusted):
            return str(ip)
    return str(_parse_ip(hops[0])) if hops else peer
