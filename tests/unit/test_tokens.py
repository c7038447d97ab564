"""Input-token estimate: ~6 letters a token (punctuation, digits and non-ASCII text weigh more) plus
3 + 3 per message overhead; its error against o200k_base is reported by bench/token_estimate.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from vmx_app.gateway.tokens import IMAGE_TOKENS, estimate_tokens


def test_empty_body_is_base_overhead() -> None:
    assert estimate_tokens({}) == 3
    assert estimate_tokens({"model": "x", "messages": []}) == 3


def test_chat_message_overhead_and_chars() -> None:
    # 3 base + (3 per message + (len("user") + 400 letters weighted 4/6) // 4)
    body = {"messages": [{"role": "user", "content": "a" * 400}]}
    assert estimate_tokens(body) == 3 + 3 + (4 + 400 * 4 // 6) // 4


def test_punctuation_digits_and_non_ascii_weigh_more() -> None:
    def tokens(text: str) -> int:
        return estimate_tokens({"messages": [{"role": "user", "content": text}]})

    letters = tokens("abcdefgh " * 50)
    assert tokens("{\"k\": 1}, " * 50) > 1.5 * letters
    assert tokens("12345678 " * 50) > 1.5 * letters
    assert tokens("東京の天気は明日" * 50) > 2 * tokens("abcdefgh" * 50)


def test_grows_with_message_count_and_length() -> None:
    one = estimate_tokens({"messages": [{"role": "user", "content": "hello"}]})
    two = estimate_tokens({"messages": [{"role": "user", "content": "hello"}] * 2})
    long = estimate_tokens({"messages": [{"role": "user", "content": "hello " * 1000}]})
    assert two > one
    assert long > 1000


def test_name_adds_a_token() -> None:
    plain = estimate_tokens({"messages": [{"role": "user", "content": "hi"}]})
    named = estimate_tokens({"messages": [{"role": "user", "content": "hi", "name": "bob"}]})
    assert plain == 3 + 3 + (len("user") + 2) // 4
    assert named == 3 + 3 + (len("user") + 2 + len("bob")) // 4 + 1


@pytest.mark.parametrize(
    "body",
    [
        # chat: multi-part content with text parts
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "x" * 800}]}]},
        # responses: string input and instructions
        {"input": "x" * 800},
        {"input": [{"role": "user", "content": [{"type": "input_text", "text": "x" * 800}]}]},
        {"instructions": "x" * 800, "input": ""},
        # anthropic: system as string and as blocks
        {"system": "x" * 800, "messages": []},
        {"system": [{"type": "text", "text": "x" * 800}], "messages": []},
        {"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                                    "content": "x" * 800}]}]},
    ],
)
def test_text_counted_in_every_endpoint_shape(body: dict[str, Any]) -> None:
    assert 133 <= estimate_tokens(body) <= 145  # 800 letters / 6


def test_tools_count_as_their_json() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "d" * 400,
                                               "parameters": {"type": "object", "properties": {}}}}]
    base = estimate_tokens({"messages": [{"role": "user", "content": "hi"}]})
    with_tools = estimate_tokens({"messages": [{"role": "user", "content": "hi"}], "tools": tools})
    assert with_tools - base == len(orjson.dumps(tools)) // 4


def test_tool_calls_and_tool_use_arguments_count() -> None:
    args = '{"city": "' + "p" * 400 + '"}'
    chat = {"messages": [{"role": "assistant", "content": None,
                          "tool_calls": [{"id": "c1", "type": "function",
                                          "function": {"name": "f", "arguments": args}}]}]}
    anthropic = {"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {"city": "p" * 400}}]}]}
    responses = {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": args}]}
    for body in (chat, anthropic, responses):
        assert estimate_tokens(body) > 60  # 400 letters / 6


def test_images_cost_a_fixed_amount_not_their_base64() -> None:
    b64 = "A" * 200_000
    chat = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}}]}]}
    anthropic = {"messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}}]}]}
    for body in (chat, anthropic):
        assert IMAGE_TOKENS <= estimate_tokens(body) < IMAGE_TOKENS + 20


def test_odd_shapes_do_not_raise() -> None:
    assert estimate_tokens({"messages": "not a list", "input": 5, "tools": None}) == 3
    assert estimate_tokens({"messages": [None, 3, "text"]}) > 3
