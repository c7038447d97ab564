"""Provider rate-limit headers read as discovered capacity (DESIGN §6, seed 002): what the provider
says a model allows per minute. Shown on the connection; never used by the gate.

OpenAI, Groq and compatible providers send `x-ratelimit-limit-requests` / `-tokens`; Anthropic sends
`anthropic-ratelimit-requests-limit`, `-tokens-limit` and the `-input-tokens-limit` /
`-output-tokens-limit` variants. **[better]** the original dropped every `anthropic-*` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SOURCES = (
    ("requests", ("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit")),
    ("tokens", ("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit")),
    ("inputTokens", ("anthropic-ratelimit-input-tokens-limit",)),
    ("outputTokens", ("anthropic-ratelimit-output-tokens-limit",)),
)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(float(value.strip()))
    except ValueError:
        return None
    return number if number > 0 else None


def parse_rate_limits(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """`{"period": "minute", "enabled": True, "requests"?, "tokens"?, "inputTokens"?, "outputTokens"?}`,
    or None when the answer carries no limit header. Header names are lower-case."""
    entry: dict[str, Any] = {}
    for field, names in _SOURCES:
        for name in names:
            value = _int(headers.get(name))
            if value is not None:
                entry[field] = value
                break
    if not entry:
        return None
    return {"period": "minute", "enabled": True, **entry}
