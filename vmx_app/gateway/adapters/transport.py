"""The pooled aiohttp client every adapter sends through, and the streaming body machinery.

One `HttpClient` per connection (DESIGN §2): a keep-alive `aiohttp.ClientSession` created lazily on
the running loop. A retired client (its connection was edited) closes once its last call is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, Protocol

import aiohttp
import orjson
from yarl import URL

from vmx_app.gateway.adapters.base import (
    ProviderError,
    ProviderNetworkError,
    ProviderTimeout,
    UpstreamResponse,
    UpstreamStream,
    error_from_response,
)

_USER_AGENT = "vmx-gateway/0.1"
_DRAIN_S = 0.25  # how long to wait for the body's end after `[DONE]` so the connection can be reused
_CLOSING: set[asyncio.Task[None]] = set()  # keeps retired-client close tasks alive until done
_TIMEOUTS: dict[float | None, aiohttp.ClientTimeout] = {}
_CLIENTS: weakref.WeakSet[HttpClient] = weakref.WeakSet()  # for the pool-use gauge


def upstream_in_flight() -> tuple[int, int]:
    """(calls holding an upstream connection now, clients with an open pool), over every provider client."""
    clients = list(_CLIENTS)
    return sum(c._inflight for c in clients), sum(1 for c in clients if c._session is not None)


class StreamDecoder(Protocol):
    """Turns body chunks into events. `finished`: natural end seen; `done`: stop reading now."""

    finished: bool
    error: Exception | None

    @property
    def done(self) -> bool: ...

    def feed(self, chunk: bytes) -> list[Any]: ...


class UpstreamTimeouts:
    """Process-wide limits on every provider call (DESIGN §11), set at start-up from the settings:
    `connect_s` to open the connection, `read_s` the longest silence between two bytes of an answer.
    A leg's own limit (timeoutMs, the request deadline) is shorter and wins."""

    connect_s: float = 10.0
    read_s: float = 600.0


def configure_timeouts(connect_s: float, read_s: float) -> None:
    UpstreamTimeouts.connect_s, UpstreamTimeouts.read_s = connect_s, read_s
    _TIMEOUTS.clear()


def _client_timeout(timeout_s: float | None) -> aiohttp.ClientTimeout:
    # sock_read bounds the wait for headers and every gap between body chunks; cached per value.
    ct = _TIMEOUTS.get(timeout_s)
    if ct is None:
        read_s = UpstreamTimeouts.read_s if timeout_s is None else min(timeout_s, UpstreamTimeouts.read_s)
        ct = aiohttp.ClientTimeout(total=None, sock_connect=UpstreamTimeouts.connect_s, sock_read=read_s)
        if len(_TIMEOUTS) < 512:
            _TIMEOUTS[timeout_s] = ct
    return ct


def _headers_of(resp: aiohttp.ClientResponse) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items()}


def _network_error(exc: BaseException) -> ProviderNetworkError:
    return ProviderNetworkError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def encode_body(body: dict[str, Any] | bytes) -> bytes:
    return body if isinstance(body, bytes | bytearray) else orjson.dumps(body)


class HttpClient:
    """A lazily created, pooled aiohttp session plus request helpers that map failures."""

    __slots__ = ("_session", "_loop", "_inflight", "_retired", "__weakref__")

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight = 0
        self._retired = False
        _CLIENTS.add(self)

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop or session.closed:
            # A session is bound to its loop; a new loop (tests, a restarted worker) gets a new one.
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                headers={"User-Agent": _USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
                timeout=_client_timeout(None),
            )
            self._session, self._loop = session, loop
        return session

    async def open(
        self,
        method: str,
        url: str | URL,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout_s: float | None,
    ) -> aiohttp.ClientResponse:
        """Send the request and return once headers arrived; non-2xx raises ProviderError."""
        session = self._get_session()
        self._inflight += 1
        try:
            try:
                async with asyncio.timeout(timeout_s):
                    resp = await session.request(
                        method, url, headers=headers, data=data, timeout=_client_timeout(timeout_s),
                        allow_redirects=False,  # a 3xx is reported, never silently re-sent as GET
                    )
            except TimeoutError as exc:
                if isinstance(exc, aiohttp.ConnectionTimeoutError):
                    raise ProviderTimeout(f"no connection to the provider within {UpstreamTimeouts.connect_s}s") \
                        from exc
                limit = timeout_s if timeout_s is not None else UpstreamTimeouts.read_s
                raise ProviderTimeout(f"no response from provider within {limit}s") from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise _network_error(exc) from exc
            if 200 <= resp.status < 300:
                return resp
            try:
                raw = await resp.read()
            except (TimeoutError, aiohttp.ClientError, OSError):
                raw = b""
            finally:
                resp.release()
            raise error_from_response(resp.status, _headers_of(resp), raw)
        except BaseException:
            self.done_one()
            raise

    async def send(
        self,
        method: str,
        url: str | URL,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout_s: float | None,
    ) -> UpstreamResponse:
        resp = await self.open(method, url, headers, data, timeout_s)
        try:
            raw = await resp.read()
        except TimeoutError as exc:
            raise ProviderTimeout(f"provider body stalled for more than {timeout_s or UpstreamTimeouts.read_s}s") \
                from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _network_error(exc) from exc
        finally:
            resp.release()
            self.done_one()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        return UpstreamResponse(resp.status, _headers_of(resp), body if isinstance(body, dict) else None, raw)

    async def get_json(self, url: str | URL, headers: Mapping[str, str], timeout_s: float = 15.0) -> Any:
        """GET off the hot path (model listing); a non-JSON answer raises ProviderError(502)."""
        resp = await self.send("GET", url, headers, None, timeout_s)
        if resp.json is None:
            raise ProviderError(502, "provider answered with a non-JSON body", resp.headers, resp.raw)
        return resp.json

    async def stream(
        self,
        method: str,
        url: str | URL,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout_s: float | None,
        decoder: Callable[[], StreamDecoder],
        scanner: Callable[[], StreamDecoder],
    ) -> UpstreamStream:
        """Open a streaming call. `decoder` feeds `events`; `scanner` watches `raw_chunks` for the end."""
        resp = await self.open(method, url, headers, data, timeout_s)
        body = _StreamBody(self, resp, timeout_s)
        return UpstreamStream(
            resp.status, _headers_of(resp), body.events(decoder), body.raw(scanner), body.aclose
        )

    def done_one(self) -> None:
        self._inflight -= 1
        if self._retired and self._inflight <= 0:
            self._close_soon()

    def retire(self) -> None:
        """Close once idle: in-flight calls on an edited connection finish on the old client."""
        self._retired = True
        if self._inflight <= 0:
            self._close_soon()

    def _close_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._session is None or self._loop is not loop:
            self._session = None  # bound to another (likely finished) loop: nothing to await here
            return
        task = loop.create_task(self.aclose())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            with contextlib.suppress(RuntimeError):  # its loop is gone
                await session.close()


async def wait_closing() -> None:
    """Wait for retired clients' close tasks (called by `close_all`)."""
    if _CLOSING:
        await asyncio.gather(*list(_CLOSING), return_exceptions=True)


class _StreamBody:
    """Owns one streaming response: one consumer (events or raw), then release or drop."""

    __slots__ = ("_client", "_resp", "_timeout_s", "_claimed", "_finished")

    def __init__(self, client: HttpClient, resp: aiohttp.ClientResponse, timeout_s: float | None) -> None:
        self._client = client
        self._resp = resp
        self._timeout_s = timeout_s
        self._claimed: str | None = None
        self._finished = False

    def _claim(self, kind: str) -> None:
        if self._claimed is not None:
            raise RuntimeError(f"stream body already consumed as {self._claimed}")
        if self._finished:
            raise RuntimeError("stream already closed")
        self._claimed = kind

    async def _read(self) -> bytes:
        try:
            return await self._resp.content.readany()
        except TimeoutError as exc:
            silence = self._timeout_s or UpstreamTimeouts.read_s
            raise ProviderTimeout(f"provider stream silent for more than {silence}s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _network_error(exc) from exc

    async def events(self, factory: Callable[[], StreamDecoder]) -> AsyncGenerator[Any, None]:
        self._claim("events")
        decoder = factory()
        reusable = False
        try:
            while True:
                chunk = await self._read()
                if not chunk:
                    break
                for event in decoder.feed(chunk):
                    yield event
                if decoder.error is not None:
                    raise decoder.error
                if decoder.done:
                    reusable = await self._drain()
                    return
            if not decoder.finished:
                raise ProviderNetworkError("provider stream ended before its natural end")
            reusable = True
        finally:
            self._finish(reusable)

    async def raw(self, factory: Callable[[], StreamDecoder]) -> AsyncGenerator[bytes, None]:
        self._claim("raw")
        scanner = factory()
        reusable = False
        try:
            while True:
                chunk = await self._read()
                if not chunk:
                    break
                scanner.feed(chunk)
                if scanner.error is not None:
                    raise scanner.error
                yield chunk
                if scanner.done:
                    reusable = await self._drain()
                    return
            if not scanner.finished:
                raise ProviderNetworkError("provider stream ended before its natural end")
            reusable = True
        finally:
            self._finish(reusable)

    async def _drain(self) -> bool:
        """After an explicit end marker, read the (normally already buffered) rest of the body."""
        content = self._resp.content
        if content.at_eof():
            return True
        try:
            async with asyncio.timeout(_DRAIN_S):
                while await content.readany():
                    pass
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False
        return True

    def _finish(self, reusable: bool) -> None:
        if self._finished:
            return
        self._finished = True
        if reusable:
            self._resp.release()
        else:
            self._resp.close()  # an unfinished body cannot be reused: drop the connection
        self._client.done_one()

    async def aclose(self) -> None:
        self._finish(False)
