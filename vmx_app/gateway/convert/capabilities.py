"""What a provider model can take, as the converters need it: reasoning parameters and native
structured output. The catalog (model pricing entries) and the connection's `modelCapabilities`
set these flags; when neither says, a conservative guess from the model's name decides, so a
`reasoning_effort` never reaches a model that refuses it (gpt-4o class)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Families that take reasoning parameters (OpenAI reasoning_effort, Gemini/Groq thinking...).
_REASONING = re.compile(
    r"(^|[./])(o\d|gpt-5(?!-chat)|gpt-oss|gemini-(2\.5|[3-9])|qwen3|deepseek-r1|deepseek\.r1|sonar-reasoning"
    r"|sonar-deep-research|magistral|grok-[34])"
)
# Claude models reason from 3.7 on; older ones refuse `thinking`.
_CLAUDE_NO_THINKING = re.compile(r"claude-(instant|2|3-(?!7))")
# Claude models with native structured output (`output_config.format`); the others get a forced tool.
_CLAUDE_NO_STRUCTURED = re.compile(r"claude-(instant|2|3|opus-4(?!-[1-9](?!\d))|sonnet-4(?!-[5-9](?!\d)))")


@dataclass(frozen=True, slots=True)
class ModelCaps:
    reasoning: bool = False
    structured_output: bool = True


def guess_caps(provider: str, model: str) -> ModelCaps:
    name = model.lower()
    if provider in ("anthropic", "bedrock-invoke") or "claude" in name:
        return ModelCaps(not _CLAUDE_NO_THINKING.search(name), not _CLAUDE_NO_STRUCTURED.search(name))
    return ModelCaps(bool(_REASONING.search(name)), True)


def resolve_caps(provider: str, model: str, *layers: Any) -> ModelCaps:
    """The guess, overridden by each layer in turn (catalog entry, then the connection's override).
    A layer is anything with optional `reasoning` / `structured_output` attributes; None skips it."""
    caps = guess_caps(provider, model)
    reasoning, structured = caps.reasoning, caps.structured_output
    for layer in layers:
        if layer is None:
            continue
        if getattr(layer, "reasoning", None) is not None:
            reasoning = bool(layer.reasoning)
        if getattr(layer, "structured_output", None) is not None:
            structured = bool(layer.structured_output)
    return ModelCaps(reasoning, structured)
