"""OpenAI Responses wire format for the fake upstream (JSON object and typed SSE events)."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.upstream_behaviour import (
    Answer,
    BadRequest,
    RequestView,
    Usage,
    content_texts,
    new_id,
    split_json,
    split_text,
    sse,
)
from tests.fakes.upstream_openai import require, response_schema
from tests.fakes.upstream_strict import check_responses


def parse_responses(body: Any) -> RequestView:
    model = require(body, "model", str)
    items = require(body, "input", (str, list))
    check_responses(body)
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    instructions = body.get("instructions")
    system: list[str] = [instructions] if isinstance(instructions, str) else []
    texts: list[str] = list(system)
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("Each input item must be an object.")
        parts = content_texts(item.get("content")) + content_texts(item.get("output"))
        texts += parts
        if item.get("role") in ("system", "developer"):
            system += parts
    last = items[-1] if items else {}
    is_user = last.get("role") == "user" and last.get("type", "message") == "message"
    tools = [t["name"] for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    return RequestView(
        model=model,
        stream=bool(body.get("stream")),
        system="\n".join(system),
        last_user_text="\n".join(content_texts(last.get("content"))) if is_user else None,
        texts=texts,
        tool_names=tools,
        thinking_requested=bool((body.get("reasoning") or {}).get("summary")),
        json_schema=response_schema((body.get("text") or {}).get("format")),
    )


def responses_usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "input_tokens_details": {
            "cached_tokens": u.cached_tokens,
            "cache_write_tokens": u.cache_creation_tokens,
        },
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total_tokens,
    }


def _output_items(answer: Answer) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if answer.thinking is not None:
        items.append(
            {
                "id": new_id("rs_"),
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": answer.thinking}],
            }
        )
    if answer.text is not None:
        items.append(
            {
                "id": new_id("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}],
            }
        )
    if answer.tool_call:
        items.append(
            {
                "id": new_id("fc_"),
                "type": "function_call",
                "status": "completed",
                "arguments": answer.arguments_json,
                "call_id": new_id("call_"),
                "name": answer.tool_call.name,
            }
        )
    return items


def _response(
    answer: Answer, body: Any, rid: str, created: int, output: list[dict[str, Any]] | None, final: bool
) -> dict[str, Any]:
    status = "in_progress"
    if final:
        status = "incomplete" if answer.stop == "length" else "completed"
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if final and answer.stop == "length" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": answer.model,
        "output": output or [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": responses_usage(answer.usage) if final else None,
        "user": None,
        "metadata": {},
    }


def render_responses(answer: Answer, body: Any) -> dict[str, Any]:
    return _response(answer, body, new_id("resp_"), int(time.time()), _output_items(answer), final=True)


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of one output item, from `output_item.added` to `output_item.done`."""
    ref = {"item_id": item["id"], "output_index": index}
    kind = item["type"]
    events: list[dict[str, Any]] = []
    if kind == "message":
        text = item["content"][0]["text"]
        events.append(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "status": "in_progress", "content": []},
            }
        )
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        events.append({"type": "response.content_part.added", **ref, "content_index": 0, "part": part})
        events += [
            {"type": "response.output_text.delta", **ref, "content_index": 0, "delta": piece, "logprobs": []}
            for piece in split_text(text)
        ]
        events.append({"type": "response.output_text.done", **ref, "content_index": 0, "text": text, "logprobs": []})
        events.append({"type": "response.content_part.done", **ref, "content_index": 0, "part": {**part, "text": text}})
    elif kind == "function_call":
        events.append(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "status": "in_progress", "arguments": ""},
            }
        )
        events += [
            {"type": "response.function_call_arguments.delta", **ref, "delta": piece}
            for piece in split_json(item["arguments"])
        ]
        events.append(
            {
                "type": "response.function_call_arguments.done",
                **ref,
                "name": item["name"],
                "arguments": item["arguments"],
            }
        )
    else:  # reasoning summary
        text = item["summary"][0]["text"]
        events.append({"type": "response.output_item.added", "output_index": index, "item": {**item, "summary": []}})
        part = {"type": "summary_text", "text": ""}
        events.append({"type": "response.reasoning_summary_part.added", **ref, "summary_index": 0, "part": part})
        events += [
            {"type": "response.reasoning_summary_text.delta", **ref, "summary_index": 0, "delta": piece}
            for piece in split_text(text)
        ]
        events.append({"type": "response.reasoning_summary_text.done", **ref, "summary_index": 0, "text": text})
        events.append(
            {
                "type": "response.reasoning_summary_part.done",
                **ref,
                "summary_index": 0,
                "part": {**part, "text": text},
            }
        )
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events


def render_responses_stream(answer: Answer, body: Any) -> list[bytes]:
    rid, created = new_id("resp_"), int(time.time())
    items = _output_items(answer)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(answer, body, rid, created, None, final=False)},
        {
            "type": "response.in_progress",
            "response": _response(answer, body, rid, created, None, final=False),
        },
    ]
    for index, item in enumerate(items):
        events += _item_events(index, item)
    final = _response(answer, body, rid, created, items, final=True)
    events.append(
        {
            "type": "response.incomplete" if answer.stop == "length" else "response.completed",
            "response": final,
        }
    )
    return [sse({**event, "sequence_number": seq}, event["type"]) for seq, event in enumerate(events)]


def responses_stream_error(message: str | None, seq: int) -> bytes:
    return sse(
        {
            "type": "error",
            "code": "server_error",
            "param": None,
            "sequence_number": seq,
            "message": message or "The server had an error while processing your request.",
        },
        "error",
    )
