"""Gateway errors and their rendering in each endpoint's own shape (DESIGN §4).

OpenAI endpoints (chat, responses): `{"error": {"message", "type", "param", "code"}}`.
Anthropic endpoint: `{"type": "error", "error": {"type", "message"}}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from vmx_app.gateway.adapters import ProviderError, ProviderNetworkError, ProviderTimeout
from vmx_app.gateway.convert.common import anthropic_error_type, openai_error_type
from vmx_app.gateway.convert.sse import sse_data, sse_event
from vmx_app.gateway.types import Endpoint, FailureKind


@dataclass(frozen=True, slots=True)
class GateHold:
    """Why the capacity gate held a request back when waiting can lift it (a budget is not held, it
    fails): the `level` of the limit (connection, resource, api_key, batch, pool) and whether the request
    is bigger than the whole limit (`never_fits`: no window will ever hold it)."""

    level: str
    never_fits: bool = False


class GatewayError(Exception):
    """A request the gateway answers with an error status.

    `raw` is an upstream error body forwarded as-is (same wire family as the endpoint); otherwise
    the body is rendered from `message`/`code`/`type`/`param` in the endpoint's shape.
    """

    def __init__(self, status: int, message: str, *, code: str | None = None, type: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None,
                 raw: bytes | None = None, hold: GateHold | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type
        self.param = param
        self.headers = headers or {}
        self.raw = raw
        self.hold = hold  # set when the capacity gate answered: callers read it, never the message

    @property
    def error_type(self) -> str:
        """The short label stored on the audit row."""
        return self.code or self.type or openai_error_type(self.status)


def bad_request(message: str, *, code: str = "invalid_request", param: str | None = None) -> GatewayError:
    return GatewayError(400, message, code=code, type="invalid_request_error", param=param)


def error_body(endpoint: Endpoint, err: GatewayError) -> bytes:
    if err.raw is not None:
        return err.raw
    if endpoint == "anthropic":
        etype = err.type if err.type and err.type.endswith("_error") else anthropic_error_type(err.status)
        return orjson.dumps({"type": "error", "error": {"type": etype, "message": err.message}})
    etype = err.type or openai_error_type(err.status)
    return orjson.dumps({"error": {"message": err.message, "type": etype, "param": err.param,
                                   "code": err.code or str(err.status)}})


def stream_error_event(endpoint: Endpoint, status: int, message: str, etype: str | None = None) -> bytes:
    """The event that ends a stream failing after its first byte: never a clean end (DESIGN §4)."""
    if endpoint == "anthropic":
        kind = etype if etype and etype.endswith("_error") else anthropic_error_type(status)
        return sse_event("error", {"type": "error", "error": {"type": kind, "message": message}})
    if endpoint == "responses":
        return sse_event("error", {"type": "error", "code": etype or openai_error_type(status),
                                   "message": message, "param": None, "sequence_number": 0})
    return sse_data({"error": {"message": message, "type": etype or openai_error_type(status),
                               "param": None, "code": str(status)}})


# ---- upstream failures ---------------------------------------------------------------------------


def classify(exc: BaseException) -> tuple[FailureKind, int]:
    """(failure kind, status) of a provider exception, as is_fallback_worthy wants it."""
    if isinstance(exc, ProviderError):
        return "http", exc.status
    if isinstance(exc, ProviderTimeout | TimeoutError):
        return "timeout", 504
    if isinstance(exc, ProviderNetworkError):
        return "network", 502
    return "network", 502


def failure_reason(kind: FailureKind, status: int) -> str:
    """A short, stable label for the `fallback` event and header."""
    if kind == "http":
        if status == 429:
            return "rate_limited"
        if status in (401, 403, 404):
            return "provider_configuration"
        return "server_error" if status >= 500 else "client_error"
    return {"timeout": "timeout", "network": "network_error", "gate": "capacity",
            "circuit": "circuit_open", "config": "configuration_error", "conversion": "conversion_error"}[kind]


def exhausted_status(kind: FailureKind, status: int) -> int:
    """The status the client gets when the last leg failed this way and nothing is left to try."""
    if kind in ("timeout",):
        return 504
    if kind == "network":
        return 502
    if kind == "gate":
        return 429
    if kind in ("circuit", "config"):
        return 503 if kind == "circuit" else 502
    if status == 429:
        return 429  # the SDKs back off on 429 + Retry-After; a 502 would hide that
    if status in (503, 529):
        return 503
    if status in (504, 408):
        return 504
    return 502
