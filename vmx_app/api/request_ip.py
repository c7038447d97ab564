"""The caller's IP for any route (completion, login throttling, audit rows): the socket peer, or
X-Forwarded-For when the peer is one of TRUSTED_PROXIES (DESIGN §11). Never the header alone: a
client must not choose its own source IP."""

from __future__ import annotations

from fastapi import Request

from vmx_app.client_ip import source_ip
from vmx_app.settings import get_settings


def request_source_ip(request: Request) -> str | None:
    client = request.client
    peer = client.host if client is not None else None
    trusted = get_settings().trusted_proxy_networks
    if not trusted:  # the default: no proxy is believed, the header is not even read
        return peer
    return source_ip(peer, request.headers.get("x-forwarded-for"), trusted)
