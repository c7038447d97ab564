"""The provider transport contract: what the engine hands an adapter and what it gets back.

Adapters only move bytes: the body is already in the provider's wire format (see `convert/`).
Every failure surfaces as one of three exceptions so the engine can decide on retries and fallback:
`ProviderError` (the provider answered non-2xx, or reported an error inside a stream),
`ProviderTimeout` and `ProviderNetworkError`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol, runtime_checkable

import orjson

WireFormat = Literal["openai-chat", "openai-responses", "anthropic", "bedrock-converse", "bedrock-invoke"]
WIRE_FORMATS: tuple[str, ...] = WireFormat.__args__  # type: ignore[attr-defined]


@dataclass(slots=True)
class UpstreamCall:
    """One provider call. `body` is a dict (serialised with orjson) or ready-made bytes (pass-through).

    For the OpenAI and Anthropic wires the body carries the provider model itself; `model` is used
    in the URL by the Bedrock wires. `timeout_s` bounds connect + time to headers and, for streams,
    every gap between chunks; None means no limit from the adapter (the engine's deadline rules).
    """

    wire: WireFormat
    model: str
    body: dict[str, Any] | bytes
    stream: bool = False
    timeout_s: float | None = None
    extra_headers: Mapping[str, str] | None = None


@dataclass(slots=True)
class UpstreamResponse:
    """A 2xx non-streaming answer. `headers` keys are lower-case; `json` is None if the body is not JSON."""

    status: int
    headers: dict[str, str]
    json: dict[str, Any] | None
    raw: bytes


@dataclass(slots=True)
class UpstreamStream:
    """A 2xx streaming answer. Consume exactly one of `events` or `raw_chunks`, then `aclose()`.

    `events` yields decoded events: `(event_name | None, data)` for SSE wires and bedrock-invoke,
    dicts like `{"contentBlockDelta": {...}}` for bedrock-converse. It raises ProviderError for an
    error reported inside the stream. `raw_chunks` yields the body bytes unchanged (pass-through;
    in-stream error events are forwarded as they are). Both raise ProviderNetworkError when the
    stream ends before its natural end and ProviderTimeout when a chunk gap exceeds the timeout.
    """

    status: int
    headers: dict[str, str]
    events: AsyncGenerator[Any, None]
    raw_chunks: AsyncGenerator[bytes, None]
    _closer: Callable[[], Awaitable[None]] = field(repr=False)

    async def aclose(self) -> None:
        """Release the connection (back to the pool after a complete read, else dropped). Idempotent."""
        for gen in (self.events, self.raw_chunks):
            with contextlib.suppress(RuntimeError):  # running in another task: the close below ends it
                await gen.aclose()
        await self._closer()

    async def __aenter__(self) -> UpstreamStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ProviderException(Exception):
    """Base of everything an adapter raises for a failed provider call."""


class ProviderError(ProviderException):
    """The provider answered with a non-2xx status, or reported an error inside a stream."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        retry_after_s: float | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.headers: Mapping[str, str] = headers or {}
        self.body = body
        self.retry_after_s = retry_after_s
        self.error_type = error_type


class ProviderTimeout(ProviderException):
    """No headers within the timeout, or a stream went silent for longer than it."""


class ProviderNetworkError(ProviderException):
    """Connection refused or reset, DNS failure, or a stream cut before its natural end."""


class AdapterConfigError(ValueError):
    """The connection's config cannot make an adapter (e.g. openai-compatible without baseUrl)."""


@runtime_checkable
class ProviderAdapter(Protocol):
    async def send(self, call: UpstreamCall) -> UpstreamResponse: ...

    async def stream(self, call: UpstreamCall) -> UpstreamStream: ...

    async def list_models(self) -> list[str]: ...

    def wires(self) -> tuple[WireFormat, ...]: ...

    async def aclose(self) -> None: ...


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError):
        return None


def parse_error_body(raw: bytes) -> tuple[str | None, str | None]:
    """(message, type) from a provider's error body: OpenAI, Anthropic, Gemini, Bedrock or plain text."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace").strip()
        return (text[:500] or None), None
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Gemini wraps errors in a list
        data = data[0]
    if not isinstance(data, dict):
        return None, None
    err = data.get("error")
    if isinstance(err, dict):
        etype = err.get("type") or err.get("status") or err.get("code")
        return _str_or_none(err.get("message")), _str_or_none(etype)
    if isinstance(err, str):
        return err, _str_or_none(data.get("type") or data.get("code"))
    message = data.get("message") or data.get("Message") or data.get("detail")
    return _str_or_none(message), _str_or_none(data.get("__type") or data.get("code"))


def _str_or_none(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def error_from_response(status: int, headers: Mapping[str, str], raw: bytes) -> ProviderError:
    message, etype = parse_error_body(raw)
    amzn_type = headers.get("x-amzn-errortype")
    if amzn_type:  # "ValidationException:http://internal.amazon.com/coral/..."
        etype = amzn_type.split(":", 1)[0]
    return ProviderError(
        status,
        message or f"provider answered HTTP {status}",
        headers,
        raw,
        parse_retry_after(headers),
        etype,
    )
