"""Callback delivery of batch updates (issue 14): a signed POST, retried with exponential backoff.

Signature: `x-vmx-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` keyed with
VMX_BATCH_CALLBACK_SECRET, and `x-vmx-timestamp` (epoch seconds), so a receiver can check the sender
and reject replays. A target that resolves to a loopback, link-local, private or otherwise reserved
address is refused (the gateway must not become a way into the internal network) unless
VMX_BATCH_CALLBACK_ALLOW_PRIVATE=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from vmx_app.errors import Invalid
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.batch")
SIGNATURE_HEADER = "x-vmx-signature"
TIMESTAMP_HEADER = "x-vmx-timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified)


async def check_target(url: str, *, allow_private: bool | None = None) -> None:
    """Refuse (Invalid) a callback URL whose host resolves to an internal address."""
    if allow_private is None:
        allow_private = get_settings().vmx_batch_callback_allow_private
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("`callback.url` must be an http(s) URL", field="callback.url")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443,
                                                             type=socket.SOCK_STREAM)
    except OSError:
        raise Invalid(f"`callback.url`: host {parts.hostname!r} does not resolve", field="callback.url") from None
    if any(_forbidden_address(str(info[4][0])) for info in infos):
        raise Invalid(f"`callback.url`: {parts.hostname!r} is a loopback, link-local or private address "
                      "(set VMX_BATCH_CALLBACK_ALLOW_PRIVATE=true to allow it)", field="callback.url")


class CallbackSender:
    """Delivers in the background; `close` lets deliveries in flight finish for a moment, then stops."""

    def __init__(self, *, base_backoff_s: float = 0.5) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self._base = base_backoff_s

    def send(self, callback: dict[str, Any], payload: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self.deliver(callback, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, callback: dict[str, Any], payload: dict[str, Any]) -> bool:
        settings = get_settings()
        url = str(callback["url"])
        body = orjson.dumps(payload)
        for attempt in range(1, settings.vmx_batch_callback_max_attempts + 1):
            try:
                await check_target(url)  # every attempt: the name may resolve elsewhere now
                if await self._post(url, callback.get("headers") or {}, body, settings.vmx_batch_callback_secret,
                                    settings.vmx_batch_callback_timeout_seconds):
                    return True
            except Invalid as exc:
                log.warning("batch callback %s refused: %s", url, exc.message)
                return False
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.info("batch callback %s attempt %d failed: %s", url, attempt, exc)
            if attempt < settings.vmx_batch_callback_max_attempts:
                await asyncio.sleep(self._base * (2 ** (attempt - 1)))
        log.warning("batch callback %s gave up after %d attempts", url, settings.vmx_batch_callback_max_attempts)
        return False

    async def _post(self, url: str, headers: dict[str, str], body: bytes, secret: str | None,
                    timeout_s: float) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        stamp = str(int(time.time()))
        sent = {**headers, "content-type": "application/json", TIMESTAMP_HEADER: stamp}
        if secret:
            sent[SIGNATURE_HEADER] = sign(secret, stamp, body)
        async with self._session.post(url, data=body, headers=sent, allow_redirects=False,
                                      timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            await resp.read()
            return 200 <= resp.status < 300

    async def close(self, grace_s: float = 2.0) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._session is not None:
            await self._session.close()
            self._session = None
