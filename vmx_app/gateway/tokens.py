"""Fast input-token estimate for chat, responses and anthropic request bodies.

The original counted with tiktoken (3 + 3 per message + encoded lengths). tiktoken needs a
download we cannot make offline, and an exact count is not needed: the estimate feeds the
capacity gate (corrected to real usage afterwards) and the `requestTokens` routing field.
We weigh the characters of the text the model reads (punctuation, digits and non-ASCII text cost
more, see `_text_len`) and divide by 4; bench/token_estimate.py reports the error against o200k_base.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

import orjson

CHARS_PER_TOKEN = 4
BASE_TOKENS = 3
PER_MESSAGE_TOKENS = 3
PER_NAME_TOKENS = 1
# A typical low-detail image costs ~85 tokens on OpenAI; base64 payloads must not be counted as text.
IMAGE_TOKENS = 85

_IMAGE_TYPES = frozenset({"image_url", "image", "input_image", "document", "input_file", "file"})
# Keys whose values are identifiers or markers, not text the model reads.
_SKIP_KEYS = frozenset({"type", "id", "tool_use_id", "call_id", "cache_control", "signature", "status"})


# Measured against o200k_base (bench/token_estimate.py): punctuation and digits split into more tokens
# than letters, non-ASCII text costs by its UTF-8 bytes, and plain English prose runs ~6 characters a
# token. Text is weighted so that 4 weighted characters make one token, like everything else here.
_LETTERS_AND_SPACE = (string.ascii_letters + " \n\t\r").encode() + bytes(range(128, 256))
_SCALE = CHARS_PER_TOKEN / 6


def _text_len(text: str) -> int:
    """Token-weighted length of `text`: two C-speed passes over its bytes."""
    n = len(text)
    if n < 16:
        return n
    raw = text.encode()
    other = len(raw.translate(None, _LETTERS_AND_SPACE))  # punctuation, digits, symbols
    return int((n + 3 * other + 1.5 * (len(raw) - n)) * _SCALE)


def _chars(value: Any) -> tuple[int, int]:
    """(weighted characters of text, number of images) in a message content value of any shape."""
    if isinstance(value, str):
        return _text_len(value), 0
    if isinstance(value, list):
        chars = images = 0
        for item in value:
            c, i = _chars(item)
            chars += c
            images += i
        return chars, images
    if isinstance(value, dict):
        if value.get("type") in _IMAGE_TYPES:
            return 0, 1
        if "input" in value and isinstance(value["input"], dict):
            # anthropic tool_use: the model reads the JSON arguments
            return len(orjson.dumps(value["input"])) + len(str(value.get("name", ""))), 0
        chars = images = 0
        for key, item in value.items():
            if key in _SKIP_KEYS:
                continue
            c, i = _chars(item)
            chars += c
            images += i
        return chars, images
    if value is None:
        return 0, 0
    return len(str(value)), 0


def _message_tokens(message: Any) -> int:
    if not isinstance(message, dict):
        chars, images = _chars(message)
        return PER_MESSAGE_TOKENS + chars // CHARS_PER_TOKEN + images * IMAGE_TOKENS
    chars, images = _chars(message.get("content"))
    chars += len(str(message.get("role", "")))
    if message.get("name"):
        chars += len(str(message["name"]))
    for key in ("tool_calls", "function_call"):  # chat: arguments are JSON text the model reads
        if message.get(key):
            chars += len(orjson.dumps(message[key]))
    for key in ("arguments", "output"):  # responses: function_call / function_call_output items
        if key in message:
            c, i = _chars(message[key])
            chars += c
            images += i
    tokens = PER_MESSAGE_TOKENS + chars // CHARS_PER_TOKEN + images * IMAGE_TOKENS
    return tokens + (PER_NAME_TOKENS if message.get("name") else 0)


def _json_tokens(value: Any) -> int:
    try:
        return len(orjson.dumps(value)) // CHARS_PER_TOKEN
    except TypeError:  # not JSON-serialisable: fall back to its repr
        return len(repr(value)) // CHARS_PER_TOKEN


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """Estimated input tokens of a request body of any of the three endpoint shapes."""
    total = BASE_TOKENS
    messages = body.get("messages")
    if isinstance(messages, list):
        total += sum(_message_tokens(m) for m in messages)
    inp = body.get("input")  # responses: a string or a list of items
    if isinstance(inp, str):
        total += PER_MESSAGE_TOKENS + _text_len(inp) // CHARS_PER_TOKEN
    elif isinstance(inp, list):
        total += sum(_message_tokens(m) for m in inp)
    for key in ("system", "instructions"):  # anthropic system (str or blocks), responses instructions
        if body.get(key):
            chars, images = _chars(body[key])
            total += PER_MESSAGE_TOKENS + chars // CHARS_PER_TOKEN + images * IMAGE_TOKENS
    for key in ("tools", "functions"):
        if body.get(key):
            total += _json_tokens(body[key])
    return total


def max_output_tokens(body: Mapping[str, Any]) -> int | None:
    """The output cap the client asked for (chat `max_completion_tokens`/`max_tokens`, responses
    `max_output_tokens`, anthropic `max_tokens`): what a budget reserves for the answer."""
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
