"""What observability adds to one completion, in-process (immune to the machine's load, unlike wrk):
the metrics sums, the JSON access log line, and both, per request, in microseconds of CPU.

    .venv/bin/python bench/observe_cost.py
"""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime

from vmx_app.gateway.audit import AuditRecord
from vmx_app.observability.logs import JsonFormatter, access_log, log_request
from vmx_app.observability.meters import RequestMeters

N = 200_000


def _record(i: int) -> AuditRecord:
    return AuditRecord(request_id=f"req-{i}", created_at=datetime.now(UTC), workspace_id="ws", environment_id="env",
                       endpoint="chat.completions", status_code=200, provider="openai", model="gpt-4o",
                       resource_name="bench-chat", prompt_tokens=12, completion_tokens=30, duration_ms=4.2,
                       cost={"total": 0.0001, "priced": True})


def _per_call_us(fn: object, records: list[AuditRecord]) -> float:
    started = time.process_time()
    for rec in records:
        fn(rec, None)  # type: ignore[operator]
    return (time.process_time() - started) / len(records) * 1e6


def main() -> None:
    records = [_record(i % 1000) for i in range(N)]
    meters = RequestMeters()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("vmx")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    both_meters = RequestMeters()

    def both(rec: AuditRecord, span: object) -> None:
        both_meters.record(rec)
        log_request(rec, span)

    print(f"metrics sums:        {_per_call_us(lambda r, s: meters.record(r), records):6.2f} us/request")
    print(f"access log line:     {_per_call_us(log_request, records[: N // 4]):6.2f} us/request")
    print(f"both:                {_per_call_us(both, records[: N // 4]):6.2f} us/request")
    access_log.setLevel(logging.WARNING)
    print(f"log line filtered:   {_per_call_us(log_request, records):6.2f} us/request (LOG_LEVEL=WARNING)")


if __name__ == "__main__":
    main()
