"""Anthropic Messages request options that other shapes express differently: system turns inside
`messages`, `output_config` (structured output and effort), thinking, and structured output for
models without it (a forced tool whose call is handed back as the answer's text)."""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.capabilities import ModelCaps
from vmx_app.gateway.convert.common import (
    ANTHROPIC_EFFORT,
    ANY_OBJECT_SCHEMA,
    DEFAULT_MAX_TOKENS,
    STRUCTURED_TOOL,
    effort_to_budget,
    json_schema_format,
    output_schema,
)
from vmx_app.gateway.types import (
    CanonicalRequest,
    InvalidRequest,
    Message,
    Part,
    Reasoning,
    Role,
    StopReason,
    TextPart,
    ToolCallPart,
)

SHAPE = "anthropic"


def system_turn(content: Any, where: str) -> Message:
    """`{"role": "system"}` inside `messages` (Claude Code's mid-conversation system turns)."""
    if isinstance(content, str):
        return Message(Role.SYSTEM, [TextPart(content)])
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be a string or an array of text blocks")
    parts: list[Part] = []
    for i, block in enumerate(content):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise InvalidRequest(f"{where}.content[{i}]: a system turn holds text blocks only")
        parts.append(TextPart(block.get("text") or "", block.get("cache_control")))
    return Message(Role.SYSTEM, parts)


def parse_thinking_and_output(req: CanonicalRequest, body: dict[str, Any]) -> None:
    """`thinking` and `output_config` into the canonical request. Keys of `output_config` other shapes
    cannot express stay native, so converting to them raises instead of dropping them."""
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        enabled = thinking.get("type") != "disabled"
        req.reasoning = Reasoning(enabled=enabled, budget_tokens=thinking.get("budget_tokens"))
        if thinking.get("type") not in ("enabled", "disabled"):
            req.native["thinking"] = thinking  # e.g. "adaptive": kept verbatim for Anthropic, effort elsewhere
    config = body.get("output_config")
    if config is None:
        return
    if not isinstance(config, dict):
        raise InvalidRequest("output_config must be an object")
    rest = {k: v for k, v in config.items() if k not in ("format", "effort")}
    fmt = config.get("format")
    if isinstance(fmt, dict):
        if fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
            raise InvalidRequest("output_config.format must be {type: 'json_schema', schema: {...}}")
        req.response_format = json_schema_format(fmt["schema"])
    effort = config.get("effort")
    if isinstance(effort, str):
        if effort not in ANTHROPIC_EFFORT:
            raise InvalidRequest(f"output_config.effort {effort!r} is not one of {sorted(ANTHROPIC_EFFORT)}")
        if req.reasoning is None:
            req.reasoning = Reasoning(enabled=True)
        req.reasoning.effort = ANTHROPIC_EFFORT[effort]
        req.native["effort"] = effort  # the exact level, for Anthropic targets
    if rest:
        req.native["output_config"] = rest


def apply_options(req: CanonicalRequest, body: dict[str, Any], caps: ModelCaps, notes: list[str]) -> None:
    """Structured output, thinking and max_tokens onto an Anthropic body whose tools are already set."""
    max_tokens = req.max_tokens or DEFAULT_MAX_TOKENS
    output: dict[str, Any] = dict(req.native.get("output_config") or {}) if req.native_shape == SHAPE else {}
    forced = False
    if req.response_format is not None:
        name, schema = output_schema(req.response_format)
        if schema is not None and caps.structured_output:
            output["format"] = {"type": "json_schema", "schema": schema}
        else:
            tools = body.setdefault("tools", [])
            tools.append({"name": STRUCTURED_TOOL, "description": f"Give the answer: the `{name}` JSON object.",
                          "input_schema": schema or ANY_OBJECT_SCHEMA})
            if len(tools) == 1:  # no tools of the client's own: the answer must be this call
                body["tool_choice"] = {"type": "tool", "name": STRUCTURED_TOOL}
                forced = True
    r = req.reasoning
    if r is not None and r.enabled:
        if not caps.reasoning:
            notes.append(f"thinking dropped: model {body.get('model')!r} does not reason")
        elif forced:
            notes.append("thinking dropped: structured output through a forced tool call excludes thinking")
        else:
            native_thinking = req.native.get("thinking") if req.native_shape == SHAPE else None
            budget = r.budget_tokens or effort_to_budget(r.effort)
            body["thinking"] = native_thinking or {"type": "enabled", "budget_tokens": budget}
            if native_thinking is None and max_tokens <= budget:  # room for the answer after the budget
                max_tokens = budget + (req.max_tokens or DEFAULT_MAX_TOKENS)
            if req.native_shape == SHAPE and req.native.get("effort"):
                output["effort"] = req.native["effort"]
    elif r is not None and req.native_shape == SHAPE:
        body["thinking"] = {"type": "disabled"}
    if output:
        body["output_config"] = output
    body["max_tokens"] = max_tokens


def unwrap_structured(content: list[Part], stop: StopReason) -> tuple[list[Part], StopReason]:
    """The forced structured-output tool call becomes the answer's text (what `.parse()` reads)."""
    if not any(isinstance(p, ToolCallPart) and p.name == STRUCTURED_TOOL for p in content):
        return content, stop
    out: list[Part] = [TextPart(p.arguments) if isinstance(p, ToolCallPart) and p.name == STRUCTURED_TOOL else p
                       for p in content]
    if stop is StopReason.TOOL_USE and not any(isinstance(p, ToolCallPart) for p in out):
        stop = StopReason.END_TURN
    return out, stop
