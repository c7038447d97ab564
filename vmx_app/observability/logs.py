"""Log lines: JSON (one object a line, for Loki/Elastic/CloudWatch) or `LOG_FORMAT=pretty` for a terminal.

Every line carries the trace and span ids of the current span when there is one; the per-request line
(`vmx.access`) carries the request's ids and outcome. Never message contents, keys or error texts that
could quote them: only ids, names, numbers and the error type.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from opentelemetry import trace

from vmx_app.gateway.audit import AuditRecord

# LogRecord attributes that are not `extra` fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
access_log = logging.getLogger("vmx.access")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "vmx_fields", None)
    if fields is not None:
        return fields  # type: ignore[no-any-return]
    extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
    if "trace_id" not in extra:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            extra["trace_id"], extra["span_id"] = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    return extra


_second: list[Any] = [-1, ""]  # the last formatted second: strftime costs more than the rest of a line


def _timestamp(created: float) -> str:
    second = int(created)
    if second != _second[0]:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((created - second) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"ts": _timestamp(record.created), "level": record.levelname,
                                "logger": record.name, "message": record.getMessage()}
        fields = getattr(record, "vmx_fields", None)  # the access line hands its fields over as one dict
        line.update(fields if fields is not None else _fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class PrettyFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = _fields(record)
        return text + ("  " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else "")


def formatter(kind: str) -> logging.Formatter:
    f: logging.Formatter = PrettyFormatter() if kind == "pretty" else JsonFormatter()
    f.converter = time.gmtime  # the "Z" in the timestamps
    return f


def log_request(rec: AuditRecord, span: Any) -> None:
    """The request's one access line; ids only, never contents."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "request_id": rec.request_id, "workspace_id": rec.workspace_id, "environment_id": rec.environment_id,
        "resource": rec.resource_name, "provider": rec.provider, "model": rec.model, "endpoint": rec.endpoint,
        "status": rec.status_code, "stream": rec.stream, "duration_ms": rec.duration_ms,
        "input_tokens": rec.prompt_tokens, "output_tokens": rec.completion_tokens,
    }
    if rec.error_type:
        fields["error_type"] = rec.error_type
    if span is not None:
        ctx = span.get_span_context()
        fields["trace_id"], fields["span_id"] = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    access_log.info("completion", extra={"vmx_fields": fields})
