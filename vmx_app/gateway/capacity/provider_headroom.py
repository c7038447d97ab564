"""Batch headroom from what the provider announces (issue 14): the rate-limit headers of a batch item's
answer (discovered capacity, discovered.py) say how much of the provider's own per-minute limit is left,
live traffic included. Once less than `1 - VMX_BATCH_HEADROOM_SHARE` of a limit remains, batch work on
that connection pauses until the provider's window resets, so live requests keep the rest. This also
covers connections with no configured limit; with neither, the AIMD backoff on 429s is all there is.

OpenAI-style: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (reset as `1s`, `6m0s`, `250ms`).
Anthropic: `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` (reset as an RFC 3339 time).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime

_OPENAI = "x-ratelimit-{part}-{metric}"
_ANTHROPIC = "anthropic-ratelimit-{metric}-{part}"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
DEFAULT_PAUSE_S = 1.0  # a reset the provider did not state (or we cannot read)


def reset_seconds(value: str | None, now: float) -> float | None:
    """`6m0s` / `250ms` (OpenAI), `2026-12-02T07:00:00Z` (Anthropic), or plain seconds."""
    if not value:
        return None
    value = value.strip()
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value:
        return sum(float(n) * _UNITS[u] for n, u in parts)
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def provider_pause(headers: Mapping[str, str] | None, share: float, now: float | None = None) -> float | None:
    """Seconds batch work should wait before its next item on this connection, or None (room left)."""
    if not headers:
        return None
    now = time.time() if now is None else now
    pause: float | None = None
    for metric in ("requests", "tokens"):
        for pattern in (_OPENAI, _ANTHROPIC):
            limit = _int(headers.get(pattern.format(part="limit", metric=metric)))
            remaining = _int(headers.get(pattern.format(part="remaining", metric=metric)))
            if not limit or remaining is None:
                continue
            if remaining < limit * (1 - share):  # past the batch's share: live traffic keeps the rest
                wait = reset_seconds(headers.get(pattern.format(part="reset", metric=metric)), now)
                wait = DEFAULT_PAUSE_S if wait is None else wait
                pause = wait if pause is None else max(pause, wait)
            break
    return pause
