"""Token usage in each wire format <-> canonical `Usage` (OpenAI semantics, see types.py)."""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.types import Usage


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def chat_usage(u: dict[str, Any] | None) -> Usage:
    if not u:
        return Usage()
    return Usage(
        input=_int(u.get("prompt_tokens")),
        output=_int(u.get("completion_tokens")),
        cached_input=_int((u.get("prompt_tokens_details") or {}).get("cached_tokens")),
        reasoning=_int((u.get("completion_tokens_details") or {}).get("reasoning_tokens")),
        total=_int(u.get("total_tokens")),
    )


def render_chat_usage(u: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": u.input,
        "completion_tokens": u.output,
        "total_tokens": u.total or u.input + u.output,
        "prompt_tokens_details": {"cached_tokens": u.cached_input},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning},
    }


def responses_usage(u: dict[str, Any] | None) -> Usage:
    if not u:
        return Usage()
    details = u.get("input_tokens_details") or {}
    return Usage(
        input=_int(u.get("input_tokens")),
        output=_int(u.get("output_tokens")),
        cached_input=_int(details.get("cached_tokens")),
        cache_write_input=_int(details.get("cache_write_tokens")),
        reasoning=_int((u.get("output_tokens_details") or {}).get("reasoning_tokens")),
        total=_int(u.get("total_tokens")),
    )


def render_responses_usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input,
        "input_tokens_details": {"cached_tokens": u.cached_input, "cache_write_tokens": u.cache_write_input},
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.total or u.input + u.output,
    }


def anthropic_usage(u: dict[str, Any] | None) -> Usage:
    """Anthropic's `input_tokens` excludes cache reads and writes; canonical `input` includes them."""
    if not u:
        return Usage()
    read = _int(u.get("cache_read_input_tokens"))
    write = _int(u.get("cache_creation_input_tokens"))
    thinking = _int((u.get("output_tokens_details") or {}).get("thinking_tokens"))
    return Usage(
        input=_int(u.get("input_tokens")) + read + write,
        output=_int(u.get("output_tokens")),
        cached_input=read,
        cache_write_input=write,
        reasoning=thinking,
    )


def render_anthropic_usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": max(u.input - u.cached_input - u.cache_write_input, 0),
        "output_tokens": u.output,
        "cache_read_input_tokens": u.cached_input,
        "cache_creation_input_tokens": u.cache_write_input,
    }


def converse_usage(u: dict[str, Any] | None) -> Usage:
    """Converse's `inputTokens` excludes cache reads and writes, like Anthropic's."""
    if not u:
        return Usage()
    read = _int(u.get("cacheReadInputTokens"))
    write = _int(u.get("cacheWriteInputTokens"))
    inp = _int(u.get("inputTokens")) + read + write
    out = _int(u.get("outputTokens"))
    return Usage(input=inp, output=out, cached_input=read, cache_write_input=write,
                 total=max(_int(u.get("totalTokens")), inp + out))


def usage_from_passthrough(wire: str, body_or_event: dict[str, Any]) -> Usage | None:
    """Usage carried by one forwarded body or stream event, or None when it carries none.

    For streams call it on every decoded event and fold the results with `Usage.merged`:
    Anthropic reports input in `message_start` and output in `message_delta`.
    """
    d = body_or_event
    if wire == "openai_chat":
        u = d.get("usage") or (d.get("x_groq") or {}).get("usage")
        return chat_usage(u) if isinstance(u, dict) else None
    if wire == "openai_responses":
        resp = d.get("response") if isinstance(d.get("response"), dict) else d
        u = resp.get("usage")
        return responses_usage(u) if isinstance(u, dict) else None
    if wire == "anthropic":
        if d.get("type") == "message_start":
            d = d.get("message") or {}
        u = d.get("usage")
        if not isinstance(u, dict):
            metrics = d.get("amazon-bedrock-invocationMetrics")  # Bedrock InvokeModel stream trailer
            if isinstance(metrics, dict):
                read = _int(metrics.get("cacheReadInputTokenCount"))
                write = _int(metrics.get("cacheWriteInputTokenCount"))
                return Usage(input=_int(metrics.get("inputTokenCount")) + read + write,
                             output=_int(metrics.get("outputTokenCount")), cached_input=read,
                             cache_write_input=write)
            return None
        return anthropic_usage(u)
    if wire == "bedrock_converse":
        meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else d
        u = meta.get("usage")
        return converse_usage(u) if isinstance(u, dict) else None
    raise ValueError(f"unknown wire {wire!r}")
