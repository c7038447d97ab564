"""The fake upstream refuses what the real providers refuse (issue 12): unknown body parameters,
reasoning parameters for models that do not reason, structured output where the model has none,
and an Anthropic tool-use turn without its (correctly signed) thinking block while thinking is on.

Known parameters come from the official SDKs' request types, so the lists follow the SDK versions
pinned in pyproject. Only OpenAI (`gpt-*`, `o<digit>`) and Claude model names are checked this way:
the other OpenAI-compatible providers take extra parameters of their own (Perplexity's search options).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import cache
from typing import Any

from tests.fakes.upstream_behaviour import BadRequest


@cache
def known_keys(wire: str) -> frozenset[str]:
    """Body parameters of a wire, from the SDK's request types (imported on first use: the standalone
    benchmark fake starts without them)."""
    if wire == "chat":
        from openai.types.chat import completion_create_params as chat

        return frozenset(chat.CompletionCreateParamsBase.__annotations__) | {"stream"}
    if wire == "responses":
        from openai.types.responses import response_create_params as responses

        return frozenset(responses.ResponseCreateParamsBase.__annotations__) | {"stream"}
    from anthropic.types import message_create_params as messages
    from anthropic.types.beta import message_create_params as beta

    keys = frozenset(messages.MessageCreateParamsBase.__annotations__)
    keys |= frozenset(beta.MessageCreateParamsBase.__annotations__)
    return (keys | {"stream", "temperature", "top_k", "top_p", "anthropic_version"}) - {"betas"}  # betas: a header

_OPENAI_MODEL = re.compile(r"^(gpt-|o\d|chatgpt-)")
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5(?!-chat))")
_CLAUDE_OLD = re.compile(r"claude-(instant|2|3-(?!7))")  # no extended thinking
_CLAUDE_NO_FORMAT = re.compile(r"claude-(instant|2|3|opus-4(?!-[1-9](?!\d))|sonnet-4(?!-[5-9](?!\d)))")
_SECRET = b"fake-upstream-thinking-key"

MISSING_THINKING = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When "
    "`thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the "
    "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
    "previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)


def sign(thinking: str) -> str:
    """The signature the fake gives a thinking block; echoed blocks must carry it unchanged."""
    return base64.b64encode(hmac.new(_SECRET, thinking.encode(), hashlib.sha256).digest()).decode()


def _unknown(body: dict[str, Any], known: frozenset[str]) -> None:
    extra = sorted(set(body) - known)
    if extra:
        raise BadRequest(f"Unrecognized request argument supplied: {extra[0]}")


def check_chat(body: dict[str, Any]) -> None:
    model = str(body.get("model") or "")
    if not _OPENAI_MODEL.match(model):
        return
    _unknown(body, known_keys("chat"))
    if "reasoning_effort" in body and not _OPENAI_REASONING.match(model):
        raise BadRequest("Unsupported parameter: 'reasoning_effort' is not supported with this model.")
    if "max_tokens" in body and _OPENAI_REASONING.match(model):
        raise BadRequest("Unsupported parameter: 'max_tokens' is not supported with this model. "
                         "Use 'max_completion_tokens' instead.")


def check_responses(body: dict[str, Any]) -> None:
    model = str(body.get("model") or "")
    if not _OPENAI_MODEL.match(model):
        return
    _unknown(body, known_keys("responses"))
    if body.get("reasoning") and not _OPENAI_REASONING.match(model):
        raise BadRequest("Unsupported parameter: 'reasoning.effort' is not supported with this model.")


def claude_thinks(model: str) -> bool:
    return not _CLAUDE_OLD.search(model)


def check_messages(body: dict[str, Any], model: str) -> None:
    if "claude" not in model:
        return
    _unknown(body, known_keys("messages"))
    thinking = body.get("thinking") or {}
    thinking_on = thinking.get("type") in ("enabled", "adaptive")
    if thinking_on and not claude_thinks(model):
        raise BadRequest(f"thinking: extended thinking is not supported by {model}")
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is not None and _CLAUDE_NO_FORMAT.search(model):
        raise BadRequest(f"output_config.format: structured outputs are not supported by {model}")
    choice = body.get("tool_choice") or {}
    if thinking_on and choice.get("type") in ("any", "tool"):
        raise BadRequest("Thinking may not be enabled when tool_choice forces tool use.")
    messages = body.get("messages") or []
    for i, msg in enumerate(messages):
        for j, block in enumerate(msg.get("content") if isinstance(msg.get("content"), list) else []):
            if isinstance(block, dict) and block.get("type") == "thinking" \
                    and block.get("signature") != sign(block.get("thinking") or ""):
                raise BadRequest(f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block")
    if thinking_on:
        _check_last_tool_turn(messages)


def _check_last_tool_turn(messages: list[Any]) -> None:
    last = max((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"),
               default=None)
    if last is None:
        return
    content = messages[last].get("content")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
    if not any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks):
        return
    first = blocks[0].get("type") if blocks and isinstance(blocks[0], dict) else "text"
    if first not in ("thinking", "redacted_thinking"):
        raise BadRequest(MISSING_THINKING.format(i=last, found=first))
