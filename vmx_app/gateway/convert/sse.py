"""Server-sent-event framing for the three endpoint shapes (bytes the official SDKs read)."""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def sse_data(obj: Any) -> bytes:
    """`data: {json}\\n\\n`: OpenAI Chat Completions chunks carry no event name."""
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def sse_event(name: str, obj: Any) -> bytes:
    """`event: name\\ndata: {json}\\n\\n`: Anthropic's SDK skips data lines without an event name."""
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(obj) + b"\n\n"
