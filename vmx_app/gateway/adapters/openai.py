"""OpenAI and the OpenAI-compatible providers: Gemini (its OpenAI endpoint), Groq, Perplexity and
any `openai-compatible` base URL. Bearer auth; chat completions everywhere, Responses on OpenAI."""

from __future__ import annotations

from typing import Any

from yarl import URL

from vmx_app.gateway.adapters.base import (
    AdapterConfigError,
    ProviderError,
    UpstreamCall,
    UpstreamResponse,
    UpstreamStream,
    WireFormat,
)
from vmx_app.gateway.adapters.sse import SSEEndScanner, SSEWireDecoder
from vmx_app.gateway.adapters.transport import HttpClient, encode_body

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/openai",
    "groq": "https://api.groq.com/openai/v1",
    "perplexity": "https://api.perplexity.ai",
}
# Perplexity has no model listing; its documented chat models (as of 2025).
PERPLEXITY_MODELS = ["sonar", "sonar-pro", "sonar-reasoning", "sonar-reasoning-pro", "sonar-deep-research"]
_PATHS: dict[str, str] = {"openai-chat": "/chat/completions", "openai-responses": "/responses"}


class OpenAIAdapter:
    def __init__(self, provider: str, config: dict[str, Any]) -> None:
        base = config.get("baseUrl") or DEFAULT_BASE_URLS.get(provider)
        if not base:
            raise AdapterConfigError(f"a {provider} connection needs `baseUrl`")
        self._provider = provider
        self._base = str(base).rstrip("/")
        self._wires: tuple[WireFormat, ...] = (
            ("openai-chat", "openai-responses") if provider == "openai" else ("openai-chat",)
        )
        self._urls = {wire: URL(self._base + _PATHS[wire]) for wire in self._wires}  # parsed once
        headers = {"Content-Type": "application/json"}
        if config.get("apiKey"):  # a local openai-compatible server may need none
            headers["Authorization"] = f"Bearer {config['apiKey']}"
        self._headers = headers
        self._stream_headers = {**headers, "Accept": "text/event-stream"}
        self._client = HttpClient()

    def wires(self) -> tuple[WireFormat, ...]:
        return self._wires

    def _url(self, call: UpstreamCall) -> URL:
        url = self._urls.get(call.wire)
        if url is None:
            raise ValueError(f"{self._provider} does not speak {call.wire}")
        return url

    async def send(self, call: UpstreamCall) -> UpstreamResponse:
        url = self._url(call)
        headers = {**self._headers, **call.extra_headers} if call.extra_headers else self._headers
        return await self._client.send("POST", url, headers, encode_body(call.body), call.timeout_s)

    async def stream(self, call: UpstreamCall) -> UpstreamStream:
        url = self._url(call)
        wire = call.wire
        extra = call.extra_headers
        headers = {**self._stream_headers, **extra} if extra else self._stream_headers
        return await self._client.stream(
            "POST", url, headers, encode_body(call.body), call.timeout_s,
            lambda: SSEWireDecoder(wire), lambda: SSEEndScanner(wire),
        )

    async def list_models(self) -> list[str]:
        try:
            data = await self._client.get_json(self._base + "/models", self._headers)
        except ProviderError as exc:
            if self._provider != "perplexity" or exc.status not in (404, 405):
                raise
            return await self._perplexity_models()
        # Gemini lists "models/gemini-…" while chat takes "gemini-…".
        return [m["id"].removeprefix("models/") for m in data.get("data") or () if m.get("id")]

    async def _perplexity_models(self) -> list[str]:
        """Check the key with a request Perplexity rejects as invalid (400) before any billing; a bad
        key gets 401/403 instead."""
        try:
            await self._client.send("POST", self._urls["openai-chat"], self._headers, b"{}", 15.0)
        except ProviderError as exc:
            if exc.status in (401, 403) or exc.status >= 500:
                raise
        return list(PERPLEXITY_MODELS)

    def retire(self) -> None:
        self._client.retire()

    async def aclose(self) -> None:
        await self._client.aclose()
