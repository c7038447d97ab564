"""Realistic provider stream sequences (decoded SSE / AWS event-stream events) for the stream tests.

Every "text" stream says "Paris." after reasoning "France -> Paris"; every "tools" stream calls
get_weather(city=Paris). Usage everywhere: 20 input tokens (8 from cache), 5 output tokens.
"""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------- provider stream sequences


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": None}


_CHAT_USAGE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o",
               "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25,
                                        "prompt_tokens_details": {"cached_tokens": 8},
                                        "completion_tokens_details": {"reasoning_tokens": 2}}}
_RESP_USAGE = {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 8}, "output_tokens": 5,
               "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 25}


def _resp(status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1700000000, "status": status, "model": "o4-mini",
            "output": output, "usage": usage, "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}


_FC = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": ""}
_ANTH_START = {"type": "message_start", "message": {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
    "stop_reason": None, "stop_sequence": None,
    "usage": {"input_tokens": 12, "cache_read_input_tokens": 8, "cache_creation_input_tokens": 0, "output_tokens": 1}}}

PROVIDER_STREAMS: dict[tuple[str, str], list[Any]] = {
    ("openai_chat", "text"): [
        _chunk({"role": "assistant", "content": ""}), _chunk({"reasoning_content": "France -> Paris"}),
        _chunk({"content": "Par"}), _chunk({"content": "is."}), _chunk({}, "stop"), _CHAT_USAGE],
    ("openai_chat", "tools"): [
        _chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                                       "function": {"name": "get_weather",
                                                                                    "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": "}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
        _chunk({}, "tool_calls"), _CHAT_USAGE],
    ("openai_responses", "text"): [
        ("response.created", {"type": "response.created", "sequence_number": 0,
                              "response": _resp("in_progress", [], None)}),
        {"type": "response.in_progress", "sequence_number": 1, "response": _resp("in_progress", [], None)},
        {"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
         "item": {"type": "reasoning", "id": "rs_1", "summary": []}},
        {"type": "response.reasoning_summary_text.delta", "sequence_number": 3, "item_id": "rs_1",
         "output_index": 0, "summary_index": 0, "delta": "France -> Paris"},
        {"type": "response.output_item.done", "sequence_number": 4, "output_index": 0,
         "item": {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "France -> Paris"}]}},
        {"type": "response.output_item.added", "sequence_number": 5, "output_index": 1,
         "item": {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}},
        {"type": "response.output_text.delta", "sequence_number": 6, "item_id": "msg_1", "output_index": 1,
         "content_index": 0, "delta": "Par"},
        {"type": "response.output_text.delta", "sequence_number": 7, "item_id": "msg_1", "output_index": 1,
         "content_index": 0, "delta": "is."},
        {"type": "response.output_item.done", "sequence_number": 8, "output_index": 1, "item": {}},
        {"type": "response.completed", "sequence_number": 9, "response": _resp("completed", [], _RESP_USAGE)}],
    ("openai_responses", "tools"): [
        {"type": "response.created", "sequence_number": 0, "response": _resp("in_progress", [], None)},
        {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0, "item": _FC},
        {"type": "response.function_call_arguments.delta", "sequence_number": 2, "item_id": "fc_1",
         "output_index": 0, "delta": "{\"city\": "},
        {"type": "response.function_call_arguments.delta", "sequence_number": 3, "item_id": "fc_1",
         "output_index": 0, "delta": "\"Paris\"}"},
        {"type": "response.output_item.done", "sequence_number": 4, "output_index": 0, "item": _FC},
        {"type": "response.completed", "sequence_number": 5,
         "response": _resp("completed", [{**_FC, "arguments": "{\"city\": \"Paris\"}"}], _RESP_USAGE)}],
    ("anthropic", "text"): [
        ("message_start", _ANTH_START),
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "France -> Paris"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig-1"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "ping"},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Par"}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "is."}},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 5}},
        {"type": "message_stop"}],
    ("anthropic", "tools"): [
        _ANTH_START,
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
         "usage": {"output_tokens": 5}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 12, "outputTokenCount": 5}}],
    ("bedrock_converse", "text"): [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "France -> Paris"}}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig-1"}}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "Par"}, "contentBlockIndex": 1}},
        ("contentBlockDelta", {"delta": {"text": "is."}, "contentBlockIndex": 1}),
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 25, "cacheReadInputTokens": 8},
                      "metrics": {"latencyMs": 300}}}],
    ("bedrock_converse", "tools"): [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "call_1", "name": "get_weather"}},
                               "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": "{\"city\": "}}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": "\"Paris\"}"}}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "tool_use"}},
        {"metadata": {"usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 25, "cacheReadInputTokens": 8},
                      "metrics": {"latencyMs": 300}}}],
}

