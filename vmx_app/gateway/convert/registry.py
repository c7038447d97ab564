"""One entry point per direction, keyed by shape name, so the engine never branches on shapes itself."""

from __future__ import annotations

from typing import Any, Protocol

from vmx_app.gateway.convert import anthropic, bedrock_converse, openai_chat, openai_responses
from vmx_app.gateway.convert.anthropic_stream import AnthropicStreamParser, AnthropicStreamRenderer
from vmx_app.gateway.convert.bedrock_converse_stream import ConverseStreamParser
from vmx_app.gateway.convert.capabilities import ModelCaps, guess_caps
from vmx_app.gateway.convert.openai_chat_stream import ChatStreamParser, ChatStreamRenderer
from vmx_app.gateway.convert.openai_responses_stream import ResponsesStreamParser, ResponsesStreamRenderer
from vmx_app.gateway.types import CanonicalRequest, CanonicalResponse, CanonicalStreamEvent, Wire

ENDPOINT_SHAPES: tuple[str, ...] = ("openai_chat", "openai_responses", "anthropic")


class StreamRenderer(Protocol):
    done: bool

    def render(self, event: CanonicalStreamEvent) -> list[bytes]: ...

    def error(self, status: int, message: str, type: str | None = None) -> list[bytes]: ...


class StreamParser(Protocol):
    def feed(self, event: dict[str, Any] | tuple[str, dict[str, Any]]) -> list[CanonicalStreamEvent]: ...

    def finish(self) -> list[CanonicalStreamEvent]: ...


def wire_for(provider: str, endpoint_shape: str) -> Wire:
    """The wire format to call `provider` with, preferring the client's own shape (pass-through)."""
    if provider in ("anthropic", "bedrock-invoke"):
        return "anthropic"
    if provider == "bedrock":
        return "bedrock_converse"
    if provider == "openai" and endpoint_shape == "openai_responses":
        return "openai_responses"
    return "openai_chat"


def parse_endpoint_request(shape: str, body: dict[str, Any]) -> CanonicalRequest:
    if shape == "openai_chat":
        return openai_chat.parse_request(body)
    if shape == "openai_responses":
        return openai_responses.parse_request(body)
    if shape == "anthropic":
        return anthropic.parse_request(body)
    raise ValueError(f"unknown endpoint shape {shape!r}")


def render_endpoint_response(shape: str, resp: CanonicalResponse,
                             request: CanonicalRequest | None = None) -> dict[str, Any]:
    if shape == "openai_chat":
        return openai_chat.render_response(resp)
    if shape == "openai_responses":
        return openai_responses.render_response(resp, request)
    if shape == "anthropic":
        return anthropic.render_response(resp)
    raise ValueError(f"unknown endpoint shape {shape!r}")


def endpoint_stream_renderer(shape: str, model: str, request: CanonicalRequest | None = None) -> StreamRenderer:
    if shape == "openai_chat":
        return ChatStreamRenderer(model, include_usage=bool(request and request.stream_include_usage))
    if shape == "openai_responses":
        return ResponsesStreamRenderer(model, request)
    if shape == "anthropic":
        return AnthropicStreamRenderer(model)
    raise ValueError(f"unknown endpoint shape {shape!r}")


def build_provider_request(wire: str, req: CanonicalRequest, model: str, provider: str,
                           caps: ModelCaps | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    """The provider body. `caps` says what the model takes (a guess from its name when None); what it
    cannot take is left out and said in `notes`."""
    caps = caps or guess_caps(provider, model)
    if wire == "openai_chat":
        return openai_chat.build_request(req, model, provider, caps, notes)
    if wire == "openai_responses":
        return openai_responses.build_request(req, model, caps, notes)
    if wire == "anthropic":
        return anthropic.build_request(req, model, bedrock=provider == "bedrock-invoke", caps=caps, notes=notes)
    if wire == "bedrock_converse":
        return bedrock_converse.build_request(req, model)
    raise ValueError(f"unknown wire {wire!r}")


def parse_provider_response(wire: str, body: dict[str, Any], model: str = "") -> CanonicalResponse:
    if wire == "openai_chat":
        return openai_chat.parse_response(body)
    if wire == "openai_responses":
        return openai_responses.parse_response(body)
    if wire == "anthropic":
        resp = anthropic.parse_response(body)
        resp.model = resp.model or model  # Bedrock InvokeModel bodies may omit it
        return resp
    if wire == "bedrock_converse":
        return bedrock_converse.parse_response(body, model)
    raise ValueError(f"unknown wire {wire!r}")


def provider_stream_parser(wire: str, model: str = "") -> StreamParser:
    if wire == "openai_chat":
        return ChatStreamParser(model)
    if wire == "openai_responses":
        return ResponsesStreamParser(model)
    if wire == "anthropic":
        return AnthropicStreamParser(model)
    if wire == "bedrock_converse":
        return ConverseStreamParser(model)
    raise ValueError(f"unknown wire {wire!r}")
