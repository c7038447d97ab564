"""Encoder for the AWS event stream binary format (`application/vnd.amazon.eventstream`).

Bedrock's streaming APIs (ConverseStream, InvokeModelWithResponseStream) frame every event as:

    total_length u32 | headers_length u32 | prelude_crc u32 | headers | payload | message_crc u32

All integers are big-endian; both CRCs are CRC32. Headers are `name_len u8 | name | type u8 | value`;
Bedrock only uses string headers (type 7: `value_len u16 | utf-8 bytes`).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

STRING_HEADER_TYPE = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _crc32(data: bytes, start: int = 0) -> int:
    return zlib.crc32(data, start) & 0xFFFFFFFF


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Encode string-valued headers in insertion order."""
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        if len(raw_name) > 255:
            raise ValueError(f"header name too long: {name!r}")
        if len(raw_value) > 0xFFFF:
            raise ValueError(f"header value too long for {name!r}")
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", STRING_HEADER_TYPE, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """Frame one event stream message with both CRCs."""
    raw_headers = encode_headers(headers)
    total_length = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total_length, len(raw_headers))
    prelude_crc = _CRC.pack(_crc32(prelude))
    body = prelude + prelude_crc + raw_headers + payload
    # The message CRC covers everything before it, prelude CRC included.
    return body + _CRC.pack(_crc32(body))


def encode_event(event_type: str, payload: Any) -> bytes:
    """An `event` message whose payload is JSON, as Bedrock sends them."""
    return encode_message(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        json.dumps(payload, separators=(",", ":")).encode("utf-8"),
    )


def encode_exception(exception_type: str, message: str) -> bytes:
    """An `exception` message (e.g. `throttlingException`) as sent mid-stream by Bedrock."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode("utf-8"),
    )
