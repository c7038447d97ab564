"""Amazon Bedrock: Converse (`bedrock-converse`) and Anthropic-on-Bedrock InvokeModel (`bedrock-invoke`).

Every request is SigV4-signed (service `bedrock`). The model id is percent-encoded into the path
(`:` and `/` included, as inference-profile ARNs need) and sent exactly as signed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from yarl import URL

from vmx_app.gateway.adapters.aws import AwsCredentials, EventStreamDecoder, sign
from vmx_app.gateway.adapters.base import (
    AdapterConfigError,
    ProviderError,
    UpstreamCall,
    UpstreamResponse,
    UpstreamStream,
    WireFormat,
)
from vmx_app.gateway.adapters.transport import HttpClient, encode_body

_INVOKE_VERSION = "bedrock-2023-05-31"
_JSON = "application/json"
_EVENTSTREAM = "application/vnd.amazon.eventstream"
_URL_CACHE_MAX = 256


class BedrockAdapter:
    """`invoke=False`: the Converse API; `invoke=True`: InvokeModel with an Anthropic Messages body."""

    def __init__(
        self, conn_id: str, config: dict[str, Any], *, invoke: bool, external_id: str | None
    ) -> None:
        region = config.get("region")
        if not region:
            raise AdapterConfigError("a Bedrock connection needs `region`")
        self._region: str = region
        self._invoke = invoke
        self._wires: tuple[WireFormat, ...] = ("bedrock-invoke",) if invoke else ("bedrock-converse",)
        endpoint = config.get("endpointUrl")
        self._runtime = (endpoint or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")
        self._control = (endpoint or f"https://bedrock.{region}.amazonaws.com").rstrip("/")
        self._suffixes = (
            ("/invoke", "/invoke-with-response-stream") if invoke else ("/converse", "/converse-stream")
        )
        self._urls: dict[tuple[str, bool], tuple[str, URL]] = {}
        self._creds = AwsCredentials(config, session_name=f"vmx-{conn_id}", external_id=external_id)
        self._client = HttpClient()

    def wires(self) -> tuple[WireFormat, ...]:
        return self._wires

    def _url(self, model: str, stream: bool) -> tuple[str, URL]:
        key = (model, stream)
        hit = self._urls.get(key)
        if hit is None:
            text = f"{self._runtime}/model/{quote(model, safe='')}{self._suffixes[stream]}"
            hit = (text, URL(text, encoded=True))  # encoded=True: yarl must not un-escape %3A / %2F
            if len(self._urls) >= _URL_CACHE_MAX:
                self._urls.clear()
            self._urls[key] = hit
        return hit

    def _body(self, call: UpstreamCall) -> tuple[bytes, dict[str, str]]:
        extra = dict(call.extra_headers) if call.extra_headers else {}
        body = call.body
        if self._invoke and isinstance(body, dict):
            body = _invoke_body(body, extra.pop("anthropic-beta", None))
        return encode_body(body), extra

    async def _signed(self, method: str, url: str, data: bytes, headers: dict[str, str]) -> dict[str, str]:
        creds = await self._creds.get()
        return sign(creds, self._region, method, url, data, headers)

    def _check(self, call: UpstreamCall) -> None:
        if call.wire not in self._wires:
            raise ValueError(f"Bedrock {'invoke' if self._invoke else 'converse'} does not speak {call.wire}")

    async def send(self, call: UpstreamCall) -> UpstreamResponse:
        self._check(call)
        text, url = self._url(call.model, False)
        data, headers = self._body(call)
        headers["Content-Type"] = _JSON
        headers["Accept"] = _JSON
        signed = await self._signed("POST", text, data, headers)
        return await self._client.send("POST", url, signed, data, call.timeout_s)

    async def stream(self, call: UpstreamCall) -> UpstreamStream:
        self._check(call)
        text, url = self._url(call.model, True)
        data, headers = self._body(call)
        headers["Content-Type"] = _JSON
        headers["Accept"] = _EVENTSTREAM
        signed = await self._signed("POST", text, data, headers)
        invoke = self._invoke
        return await self._client.stream(
            "POST", url, signed, data, call.timeout_s,
            lambda: EventStreamDecoder(invoke), lambda: EventStreamDecoder(invoke),
        )

    async def _get(self, path: str, query: dict[str, str]) -> Any:
        text = f"{self._control}{path}?{urlencode(query)}" if query else f"{self._control}{path}"
        signed = await self._signed("GET", text, b"", {"Accept": _JSON})
        return await self._client.get_json(URL(text, encoded=True), signed)

    async def list_models(self) -> list[str]:
        """Text models the account can call (ListFoundationModels), plus its inference profiles."""
        data = await self._get("/foundation-models", {})
        models: list[str] = []
        for summary in data.get("modelSummaries") or ():
            if "TEXT" not in (summary.get("outputModalities") or ("TEXT",)):
                continue
            if self._invoke and (summary.get("providerName") or "").lower() != "anthropic":
                continue
            models.append(summary["modelId"])
        try:
            profiles = await self._get("/inference-profiles", {"maxResults": "1000"})
        except ProviderError as exc:
            if exc.status not in (403, 404):  # profiles are optional: a role may not list them
                raise
            profiles = {}
        for profile in profiles.get("inferenceProfileSummaries") or ():
            pid = profile.get("inferenceProfileId")
            if pid and (not self._invoke or ".anthropic." in pid):
                models.append(pid)
        return models

    def retire(self) -> None:
        self._client.retire()

    async def aclose(self) -> None:
        await self._client.aclose()


def _invoke_body(body: dict[str, Any], beta: str | None) -> dict[str, Any]:
    """An Anthropic Messages body as InvokeModel wants it: no `model`/`stream`, an `anthropic_version`,
    and `anthropic-beta` moved into the body. Copies only when something must change."""
    if "model" not in body and "stream" not in body and "anthropic_version" in body and not beta:
        return body
    out = {k: v for k, v in body.items() if k != "model" and k != "stream"}
    out.setdefault("anthropic_version", _INVOKE_VERSION)
    if beta:
        betas = [b.strip() for b in beta.split(",") if b.strip()]
        out["anthropic_beta"] = list(dict.fromkeys([*(out.get("anthropic_beta") or []), *betas]))
    return out
