"""Anthropic Messages API: `x-api-key` + `anthropic-version`; extra headers (e.g. `anthropic-beta`)
pass through and may override the version."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from yarl import URL

from vmx_app.gateway.adapters.base import (
    AdapterConfigError,
    UpstreamCall,
    UpstreamResponse,
    UpstreamStream,
    WireFormat,
)
from vmx_app.gateway.adapters.sse import SSEEndScanner, SSEWireDecoder
from vmx_app.gateway.adapters.transport import HttpClient, encode_body

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
ANTHROPIC_VERSION = "2023-06-01"
_WIRES: tuple[WireFormat, ...] = ("anthropic",)


def api_base(config: dict[str, Any]) -> str:
    """The API root ending in `/v1`: `baseUrl` is taken with or without it (the Anthropic SDK's own
    convention is without, e.g. `https://api.anthropic.com`)."""
    base = str(config.get("baseUrl") or DEFAULT_BASE_URL).rstrip("/")
    return base if URL(base).path.rstrip("/").endswith("/v1") else base + "/v1"


def _decoder() -> SSEWireDecoder:
    return SSEWireDecoder("anthropic")


def _scanner() -> SSEEndScanner:
    return SSEEndScanner("anthropic")


class AnthropicAdapter:
    def __init__(self, config: dict[str, Any]) -> None:
        if not config.get("apiKey"):
            raise AdapterConfigError("an anthropic connection needs `apiKey`")
        self._base = api_base(config)
        self._url = URL(self._base + "/messages")  # parsed once
        self._count_url = URL(self._base + "/messages/count_tokens")
        self._headers = {
            "x-api-key": str(config["apiKey"]),
            "anthropic-version": ANTHROPIC_VERSION,
            "Content-Type": "application/json",
        }
        self._stream_headers = {**self._headers, "Accept": "text/event-stream"}
        self._client = HttpClient()

    def wires(self) -> tuple[WireFormat, ...]:
        return _WIRES

    @staticmethod
    def _check(call: UpstreamCall) -> None:
        if call.wire != "anthropic":
            raise ValueError(f"anthropic does not speak {call.wire}")

    async def send(self, call: UpstreamCall) -> UpstreamResponse:
        self._check(call)
        headers = {**self._headers, **call.extra_headers} if call.extra_headers else self._headers
        return await self._client.send("POST", self._url, headers, encode_body(call.body), call.timeout_s)

    async def stream(self, call: UpstreamCall) -> UpstreamStream:
        self._check(call)
        extra = call.extra_headers
        headers = {**self._stream_headers, **extra} if extra else self._stream_headers
        return await self._client.stream(
            "POST", self._url, headers, encode_body(call.body), call.timeout_s, _decoder, _scanner
        )

    async def count_tokens(self, body: dict[str, Any], extra_headers: dict[str, str] | None,
                           timeout_s: float) -> UpstreamResponse:
        """Anthropic's own token count of a Messages body (`{"input_tokens": N}`)."""
        headers = {**self._headers, **extra_headers} if extra_headers else self._headers
        return await self._client.send("POST", self._count_url, headers, encode_body(body), timeout_s)

    async def list_models(self) -> list[str]:
        models: list[str] = []
        after: str | None = None
        while True:
            url = f"{self._base}/models?limit=1000" + (f"&after_id={quote(after)}" if after else "")
            data = await self._client.get_json(url, self._headers)
            page = [m["id"] for m in data.get("data") or () if m.get("id")]
            models.extend(page)
            after = data.get("last_id")
            if not data.get("has_more") or not after or not page:
                return models

    def retire(self) -> None:
        self._client.retire()

    async def aclose(self) -> None:
        await self._client.aclose()
