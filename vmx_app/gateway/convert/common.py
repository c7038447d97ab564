"""Helpers shared by the shape converters: ids, data URLs, JSON arguments, effort/budget maps."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import orjson

from vmx_app.gateway.types import (
    ImagePart,
    InvalidRequest,
    Message,
    Part,
    RawPart,
    Role,
    TextPart,
    ThinkingPart,
    UnsupportedContent,
)

_DATA_URL = re.compile(r"^data:(?P<mt>[\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*?;base64,(?P<data>.*)$", re.S)

# OpenAI effort -> Anthropic thinking budget. Anthropic needs budget >= 1024 and < max_tokens.
EFFORT_BUDGET: dict[str, int] = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576, "xhigh": 32000}
DEFAULT_MAX_TOKENS = 4096  # Anthropic and Converse-Claude require max_tokens; OpenAI clients may omit it


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


def parse_data_url(url: str) -> tuple[str | None, str] | None:
    """`data:image/png;base64,AAAA` -> ("image/png", "AAAA"); None for anything else."""
    m = _DATA_URL.match(url)
    if not m:
        return None
    return m.group("mt"), m.group("data")


def image_from_url(url: str, detail: str | None = None) -> ImagePart:
    parsed = parse_data_url(url)
    if parsed:
        return ImagePart(data=parsed[1], media_type=parsed[0] or "image/png", detail=detail)
    if url.startswith("data:"):
        raise InvalidRequest("image data URLs must be base64-encoded")
    return ImagePart(url=url, detail=detail)


def image_url_of(part: ImagePart) -> str:
    """The OpenAI `image_url.url` for an image: its URL or a base64 data URL."""
    if part.data is not None:
        return f"data:{part.media_type or 'image/png'};base64,{part.data}"
    return part.url or ""


def parse_arguments(arguments: str, where: str) -> dict[str, Any]:
    """Tool-call arguments as an object: Anthropic and Converse take `input` objects, not JSON text."""
    if not arguments or not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        raise UnsupportedContent(f"{where}: tool call arguments are not valid JSON") from exc
    if not isinstance(value, dict):
        raise UnsupportedContent(f"{where}: tool call arguments must be a JSON object")
    return value


def arguments_object(arguments: str) -> dict[str, Any]:
    """Lenient form for rendering model output: arguments cut off by max_tokens are not JSON yet."""
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def dump_arguments(value: Any) -> str:
    return orjson.dumps(value if value is not None else {}).decode()


def effort_to_budget(effort: str | None) -> int:
    return EFFORT_BUDGET.get(effort or "medium", EFFORT_BUDGET["medium"])


def budget_to_effort(budget: int | None) -> str:
    if budget is None:
        return "medium"
    if budget < 4096:
        return "low"
    if budget < 16384:
        return "medium"
    return "high"


def text_of(parts: list[Any]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


SHAPE_NAMES = {
    "openai_chat": "OpenAI Chat Completions",
    "openai_responses": "OpenAI Responses",
    "anthropic": "Anthropic Messages",
    "bedrock_converse": "Bedrock Converse",
    "bedrock-invoke": "Bedrock InvokeModel (Claude)",
}


def unsupported(what: str, target: str) -> UnsupportedContent:
    return UnsupportedContent(f"{what}: not supported by {SHAPE_NAMES.get(target, target)}")


def reject_raw(part: Part, target: str) -> None:
    if isinstance(part, RawPart):
        raise unsupported(f"content block '{part.kind}' ({part.shape})", target)


def keep_thinking(part: ThinkingPart, target: str) -> bool:
    """Signed reasoning only travels back to the wire family that signed it."""
    if target == "openai_responses":
        return part.origin == "openai_responses" and bool(part.id)
    if target in ("anthropic", "bedrock_converse"):
        return part.origin != "openai_responses" and bool(part.signature or part.redacted)
    return False


def portable_signature(part: ThinkingPart) -> str | None:
    """A signature other shapes may carry back to us; OpenAI's encrypted reasoning stays with OpenAI."""
    return None if part.origin == "openai_responses" else part.signature


def merge_same_role(messages: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """Anthropic and Converse want alternating roles: fold consecutive same-role turns together."""
    out: list[tuple[str, list[Any]]] = []
    for role, blocks in messages:
        if not blocks:
            continue
        if out and out[-1][0] == role:
            out[-1][1].extend(blocks)
        else:
            out.append((role, list(blocks)))
    return out


def turn_role(message: Message) -> str:
    """Tool results travel in user turns on Anthropic and Converse."""
    return "assistant" if message.role is Role.ASSISTANT else "user"


def anthropic_error_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        504: "timeout_error",
        529: "overloaded_error",
    }.get(status, "api_error")


def openai_error_type(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    if 400 <= status < 500:
        return "invalid_request_error"
    return "server_error"


# Known source-shape parameters that change what the client gets back: another family cannot honour
# them, so converting raises instead of quietly returning something else.
_OUTPUT_CHANGING = frozenset(
    {"audio", "functions", "function_call", "web_search_options", "mcp_servers", "container",
     "previous_response_id", "conversation", "prompt", "background", "output_config"}
)


def native_params(native: dict[str, Any], native_shape: str | None, target: str,
                  portable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Native parameters to emit to `target`: all of them for the same shape, the portable ones
    otherwise; tuning knobs without a counterpart (seed, penalties...) are left out."""
    if native_shape == target:
        return dict(native)
    out: dict[str, Any] = {}
    for key, value in native.items():
        if key in portable:
            out[key] = value
        elif (
            (key in _OUTPUT_CHANGING and value)  # `background: false`, `audio: null` ask for nothing
            or (key == "n" and isinstance(value, int) and value > 1)
            or (key in ("logprobs", "top_logprobs") and value)
            or (key == "modalities" and isinstance(value, list) and "audio" in value)
        ):
            raise unsupported(f"parameter '{key}'", target)
    return out


# ---------------------------------------------------------------- system turns, structured output, effort

# The tool that carries structured output to Anthropic models without native structured output;
# its call comes back to the client as the answer's text.
STRUCTURED_TOOL = "vmx_structured_output"
ANY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}


def fold_system_turns(system: list[TextPart], messages: list[Message]) -> tuple[list[TextPart], list[Message]]:
    """For shapes with one system prompt: system turns inside the conversation are appended to it,
    in order (they add instructions from that point on), and leave the message list."""
    if not any(m.role is Role.SYSTEM for m in messages):
        return system, messages
    folded = list(system)
    for m in messages:
        if m.role is Role.SYSTEM:
            folded.extend(p for p in m.content if isinstance(p, TextPart) and p.text)
    return folded, [m for m in messages if m.role is not Role.SYSTEM]


def output_schema(response_format: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """(name, JSON schema) of an OpenAI chat `response_format`; schema None for `json_object`."""
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        return str(spec.get("name") or "output"), spec.get("schema") or ANY_OBJECT_SCHEMA
    if response_format.get("type") == "json_object":
        return "output", None
    raise UnsupportedContent(f"response_format type {response_format.get('type')!r} is not supported")


def is_strict_schema(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts the schema: every object closed and all its properties required."""
    if isinstance(schema, list):
        return all(is_strict_schema(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False or set(schema.get("required") or []) != set(props):
            return False
    return all(is_strict_schema(v) for k, v in schema.items() if k not in ("required", "enum", "const"))


def json_schema_format(schema: dict[str, Any], name: str = "output") -> dict[str, Any]:
    """OpenAI chat `response_format` for a JSON schema (strict when the schema allows it)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": is_strict_schema(schema)}}


# Anthropic `output_config.effort` -> OpenAI reasoning effort.
ANTHROPIC_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
