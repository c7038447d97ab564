"""Content a target cannot express raises UnsupportedContent (a 400 naming the thing), never vanishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.test_convert_cases import PNG
from vmx_app.gateway.convert import anthropic, bedrock_converse, openai_chat, openai_responses
from vmx_app.gateway.types import CanonicalRequest, InvalidRequest, RawPart, UnsupportedContent

USER = {"role": "user", "content": "hi"}


def chat(**body: Any) -> CanonicalRequest:
    return openai_chat.parse_request({"model": "r", "messages": [USER], **body})


def claude(**body: Any) -> CanonicalRequest:
    return anthropic.parse_request({"model": "r", "max_tokens": 10, "messages": [USER], **body})


def responses(**body: Any) -> CanonicalRequest:
    return openai_responses.parse_request({"model": "r", "input": "hi", **body})


def to_chat(req: CanonicalRequest) -> Any:
    return openai_chat.build_request(req, "gpt-4o")


def to_responses(req: CanonicalRequest) -> Any:
    return openai_responses.build_request(req, "gpt-4o")


def to_claude(req: CanonicalRequest) -> Any:
    return anthropic.build_request(req, "claude")


def to_converse(req: CanonicalRequest) -> Any:
    return bedrock_converse.build_request(req, "amazon.nova-pro-v1:0")


DOCUMENT = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
HTTP_IMAGE = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}]}

CASES: list[tuple[str, Callable[[], CanonicalRequest], Callable[[CanonicalRequest], Any], str]] = [
    ("http image to converse", lambda: chat(messages=[HTTP_IMAGE]), to_converse, "image URL"),
    ("tiff image to converse", lambda: chat(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:image/tiff;base64,{PNG}"}}]}]), to_converse, "image/tiff"),
    ("anthropic document to chat", lambda: claude(messages=[{"role": "user", "content": [DOCUMENT]}]), to_chat,
     "document"),
    ("anthropic document to responses", lambda: claude(messages=[{"role": "user", "content": [DOCUMENT]}]),
     to_responses, "document"),
    ("anthropic document to converse", lambda: claude(messages=[{"role": "user", "content": [DOCUMENT]}]),
     to_converse, "document"),
    ("anthropic server tool to chat", lambda: claude(tools=[WEB_SEARCH]), to_chat, "web_search_20250305"),
    ("anthropic server tool to converse", lambda: claude(tools=[WEB_SEARCH]), to_converse, "web_search_20250305"),
    ("responses built-in tool to claude", lambda: responses(tools=[{"type": "web_search"}]), to_claude, "web_search"),
    ("responses file input to claude", lambda: responses(input=[{"role": "user", "content": [
        {"type": "input_file", "file_id": "file-1"}]}]), to_claude, "input_file"),
    ("chat stop sequences to responses", lambda: chat(stop=["END"]), to_responses, "stop sequences"),
    ("chat n=2 to claude", lambda: chat(n=2), to_claude, "'n'"),
    ("chat logprobs to converse", lambda: chat(logprobs=True), to_converse, "'logprobs'"),
    ("chat audio output to claude", lambda: chat(modalities=["text", "audio"]), to_claude, "'modalities'"),
    ("previous_response_id to claude", lambda: responses(previous_response_id="resp_1"), to_claude,
     "previous_response_id"),
    ("unknown output_config key to chat", lambda: claude(output_config={"task_budget": 5}), to_chat,
     "output_config"),
    ("json mode to converse", lambda: chat(response_format={"type": "json_object"}), to_converse, "response_format"),
    ("anthropic image in tool result to chat", lambda: claude(messages=[
        USER, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]}]}]),
     to_chat, "tool result"),
    ("broken tool arguments to claude", lambda: chat(messages=[USER, {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{\"city\": "}}]}]), to_claude,
     "not valid JSON"),
    ("video part to claude", lambda: chat(messages=[{"role": "user", "content": [
        {"type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}}]}]), to_claude, "video_url"),
    ("reasoning for a non-Claude converse model", lambda: chat(reasoning_effort="high"), to_converse, "reasoning"),
]


@pytest.mark.parametrize(("name", "make", "build", "needle"), CASES, ids=[c[0] for c in CASES])
def test_unsupported_content_raises(name: str, make: Callable[[], CanonicalRequest],
                                    build: Callable[[CanonicalRequest], Any], needle: str) -> None:
    with pytest.raises(UnsupportedContent, match=needle) as info:
        build(make())
    assert isinstance(info.value, ValueError)


def test_unsupported_at_parse_time() -> None:
    with pytest.raises(UnsupportedContent, match="audio"):
        chat(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x"}}]}])
    with pytest.raises(UnsupportedContent, match="function_call"):
        chat(messages=[USER, {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}])


@pytest.mark.parametrize("body", [
    {"model": "r"},
    {"model": "r", "messages": "hi"},
    {"model": "r", "messages": [{"role": "tool", "content": "x"}]},
    {"model": "r", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
])
def test_malformed_chat_bodies_are_invalid_requests(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        openai_chat.parse_request(body)


def test_malformed_anthropic_and_responses_bodies() -> None:
    with pytest.raises(InvalidRequest):
        anthropic.parse_request({"model": "r", "messages": [{"role": "tool", "content": "x"}]})
    with pytest.raises(InvalidRequest):
        openai_responses.parse_request({"model": "r", "input": 42})


def test_same_shape_keeps_blocks_other_shapes_reject() -> None:
    req = claude(messages=[{"role": "user", "content": [DOCUMENT, {"type": "text", "text": "Summarize"}]}],
                 tools=[WEB_SEARCH])
    assert isinstance(req.messages[0].content[0], RawPart)
    body = to_claude(req)
    assert body["messages"][0]["content"][0] == DOCUMENT and body["tools"] == [WEB_SEARCH]
    video = chat(messages=[{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "u"}}]}])
    assert openai_chat.build_request(video, "qwen-vl", "openai-compatible")["messages"][0]["content"] == [
        {"type": "video_url", "video_url": {"url": "u"}}]


def test_http_image_urls_reach_providers_that_fetch_them() -> None:
    req = chat(messages=[HTTP_IMAGE])
    assert to_claude(req)["messages"][0]["content"][0] == {
        "type": "image", "source": {"type": "url", "url": "https://x.test/cat.png"}}
    assert to_responses(req)["input"][0]["content"][0]["image_url"] == "https://x.test/cat.png"


def test_native_parameters_that_ask_for_nothing_do_not_raise() -> None:
    body = to_claude(responses(background=False, previous_response_id=None, store=False, top_logprobs=0))
    assert "background" not in body and "store" not in body
    assert "n" not in to_converse(chat(n=1, logprobs=False, modalities=["text"], seed=3))
