"""What the engine calls with every finished request's record: metrics sums and the access log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from vmx_app.gateway.audit import AuditRecord
from vmx_app.observability.logs import access_log, log_request
from vmx_app.observability.meters import RequestMeters

Observer = Callable[[AuditRecord, Any], None]


def make_observer(meters: RequestMeters | None) -> Observer | None:
    """None when neither metrics nor the access line are on: the engine then skips the call."""
    logs = access_log.isEnabledFor(logging.INFO)
    if meters is None and not logs:
        return None
    if meters is None:
        return log_request
    record = meters.record
    if not logs:
        return lambda rec, _span: record(rec)

    def observe(rec: AuditRecord, span: Any) -> None:
        record(rec)
        log_request(rec, span)

    return observe
