"""Audit trail and usage analytics at scale (issue 11): generate N rows over 30 days for one environment
in a PostgreSQL database of its own, then print the writer's sustained rows/s into Postgres, bytes per
row on disk, and the median time of the dashboard's queries and of an export.

    .venv/bin/python bench/audit.py [--rows 1000000] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
                                    [--keep] [--order random|arrival]

Nothing here asserts: it measures and reports (targets: queries <= 300 ms median, export >= 50,000
rows/s, writer >= 20,000 rows/s). The database `vmx_bench_audit_<random>` is dropped afterwards unless
--keep.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAYS = 30
REPEATS = 5


def _admin(dsn: str, sql: str) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _records(ws: str, env: str, count: int, end: datetime, seed: int, arrival: bool = False) -> Any:
    from vmx_app.gateway.audit import AuditRecord

    rng = random.Random(seed)
    resources = [(str(uuid.uuid4()), f"resource-{i}") for i in range(20)]
    keys = [(str(uuid.uuid4()), f"key-{i}") for i in range(50)]
    models = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"),
              ("bedrock", "amazon.nova-pro-v1:0")]
    span = DAYS * 86400
    for i in range(count):
        provider, model = models[i % len(models)]
        resource, key = resources[rng.randrange(20)], keys[rng.randrange(50)]
        status = 200 if rng.random() < 0.97 else rng.choice((429, 500, 503))
        prompt, completion = rng.randint(10, 4000), rng.randint(1, 800)
        # arrival: oldest first, as a gateway writes them; otherwise anywhere in the 30 days
        age = (count - i - rng.random()) / count if arrival else rng.random()
        yield AuditRecord(
            request_id=uuid.uuid4().hex, created_at=end - timedelta(seconds=span * age),
            workspace_id=ws, environment_id=env, endpoint="chat.completions", status_code=status,
            resource_id=resource[0], resource_name=resource[1], api_key_id=key[0], api_key_name=key[1],
            provider=provider, model=model, correlation_id=f"trace-{i // 3}",
            error_type="server_error" if status >= 500 else None,
            error_message="upstream returned 500" if status >= 500 else None,
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion,
            duration_ms=rng.lognormvariate(6, 0.6), provider_duration_ms=rng.lognormvariate(5.9, 0.6),
            gate_duration_ms=0.05, routing_duration_ms=0.02, time_to_first_token_ms=rng.lognormvariate(5, 0.5),
            tokens_per_second=rng.uniform(20, 200),
            cost={"total": prompt * 2.5e-6 + completion * 1e-5, "input": prompt * 2.5e-6,
                  "output": completion * 1e-5, "cached": 0.0, "reasoning": 0.0, "currency": "USD"},
            request_payload={"model": resource[1], "messages": [{"role": "user", "content": "How do I reset my "
                                                                 "password? " * 3}]},
            response_payload={"id": "chatcmpl-x", "choices": [{"message": {"role": "assistant",
                                                                            "content": "Open settings. " * 6}}]})


async def _load(ws: str, env: str, rows: int, end: datetime, arrival: bool) -> float:
    """All rows through the audit writer (encode at submit + COPY in batches of 1,000): rows/s of the
    writer alone (generating the records is not timed)."""
    from vmx_app.audit.writer import AuditWriter

    writer = AuditWriter(batch_size=1000, max_queue=1_000_000)
    records = _records(ws, env, rows, end, seed=1, arrival=arrival)
    busy, written = 0.0, 0
    while written < rows:
        chunk = [r for _, r in zip(range(50_000), records, strict=False)]
        t0 = time.perf_counter()
        for record in chunk:
            writer.submit(record)
        written += await writer.flush()
        busy += time.perf_counter() - t0
        print(f"  {written:>10,} rows, writer {written / busy:,.0f} rows/s", flush=True)
    await writer.stop()
    return written / busy


async def _median_ms(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


async def _queries(ws: uuid.UUID, env: uuid.UUID, end: datetime) -> None:
    from vmx_app.services import audit_log
    from vmx_app.services.audit_log import AuditFilters
    from vmx_app.services.usage import query_usage
    from vmx_app.services.usage_query import UsageQuery

    def usage(body: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        return lambda: query_usage(UsageQuery.model_validate(body), workspace_id=ws, environment_id=env, now=end)

    day = {"start": (end - timedelta(hours=24)).isoformat(), "end": end.isoformat()}
    month = {"start": (end - timedelta(days=DAYS)).isoformat(), "end": end.isoformat()}
    cases = {
        "24 h by minute, requests + p95 latency": usage({
            "granularity": "minute", "agg": {"requestCount": "sum", "requestDuration": "p95"},
            "filter": {"dateRange": day}}),
        "30 days by day and by resource": usage({
            "granularity": "day", "dimensions": ["resourceId"],
            "agg": {"requestCount": "sum", "totalTokens": "sum", "cost": "sum"}, "filter": {"dateRange": month}}),
        "audit list, first page, status 5xx": lambda: audit_log.list_rows(ws, env, AuditFilters(status="5xx")),
    }
    for name, fn in cases.items():
        ms, result = await _median_ms(fn)
        print(f"  {name:<42} {ms:8.1f} ms median   ({len(result['data'])} rows out)")

    seen = {"rows": 0}
    # The newest ~100,000 rows: 3 days of a 1M-row month (the filter makes the count exact enough).
    start = end - timedelta(days=DAYS * 100_000 / max(_ROWS, 1))

    for fmt, header in (("jsonl", 0), ("csv", 1)):
        async def export(fmt: Any = fmt, header: int = header) -> None:
            seen["rows"] = -header
            async for chunk in audit_log.export_rows(ws, env, AuditFilters(start=start), fmt):
                seen["rows"] += chunk.count(b"\n")  # no newline inside a cell: the bench's texts have none

        ms, _ = await _median_ms(export)
        print(f"  {'export ' + fmt.upper() + ' of the newest rows':<42} {ms:8.1f} ms median   "
              f"({seen['rows']:,} rows, {seen['rows'] / (ms / 1000):,.0f} rows/s)")


_ROWS = 1_000_000


async def _run(rows: int, db: str, base: str, arrival: bool) -> None:
    from vmx_app.db import dispose_engines

    ws, env, end = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC).replace(microsecond=0)
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared: other work skews every number)")
    print(f"database {db}: writing {rows:,} rows over {DAYS} days through the audit writer (COPY), "
          f"{'oldest first' if arrival else 'random times'}")
    rate = await _load(str(ws), str(env), rows, end, arrival)
    print(f"writer: {rate:,.0f} rows/s sustained into PostgreSQL (target >= 20,000)")
    _admin(f"{base}/{db}", "VACUUM ANALYZE request_audit")
    # The usage rollup (migration 0008) too: without statistics its first plans sort on disk.
    _admin(f"{base}/{db}", "DO $$ BEGIN IF to_regclass('request_audit_rollup') IS NOT NULL THEN "
                           "ANALYZE request_audit_rollup; END IF; END $$")
    conn = psycopg2.connect(f"{base}/{db}")
    with conn.cursor() as cur:
        # The table is partitioned by month: its size is its partitions' (the parent holds nothing).
        cur.execute("SELECT sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid)) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'request_audit'::regclass")
        table, indexes = (int(v) for v in cur.fetchone())  # type: ignore[union-attr]
        cur.execute("SELECT count(*) FROM request_audit")
        count = cur.fetchone()[0]  # type: ignore[index]
        # The usage rollup (migration 0008) is part of what each row costs on disk.
        cur.execute("SELECT coalesce(sum(pg_table_size(oid) + pg_indexes_size(oid)), 0), "
                    "count(*) FROM pg_class WHERE relname = 'request_audit_rollup'")
        rollup, has_rollup = (int(v) for v in cur.fetchone())  # type: ignore[union-attr]
        if has_rollup:
            cur.execute("SELECT count(*) FROM request_audit_rollup")
            rollup_rows = cur.fetchone()[0]  # type: ignore[index]
    conn.close()
    total = table + indexes + rollup
    print(f"on disk: {total / count:,.0f} bytes/row ({table / count:,.0f} data incl. TOAST + "
          f"{indexes / count:,.0f} indexes + {rollup / count:,.0f} usage rollup), {total / 2**20:,.0f} MiB for "
          f"{count:,} rows" + (f" ({rollup_rows:,} rollup rows)" if has_rollup else ""))
    print(f"queries (median of 5; targets <= 300 ms, export >= 50,000 rows/s), load average "
          f"{os.getloadavg()[0]:.2f}:")
    await _queries(ws, env, end)
    await dispose_engines()


def main() -> int:
    global _ROWS
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--order", choices=("random", "arrival"), default="random",
                        help="rows' times: anywhere in the 30 days (each batch spans the month), or oldest first "
                             "(as a gateway writes them)")
    args = parser.parse_args()
    _ROWS = args.rows
    db = f"vmx_bench_audit_{secrets.token_hex(3)}"
    base = args.dsn.rsplit("/", 1)[0]
    _admin(args.dsn, f"CREATE DATABASE {db}")
    os.environ.update(DATABASE_URL=f"{base}/{db}".replace("postgresql://", "postgresql+asyncpg://"),
                      VMX_DATA_DIR=f"/tmp/{db}")
    os.environ.pop("DATABASE_RO_URL", None)
    try:
        from vmx_app.migrations import upgrade_to_head

        upgrade_to_head()
        asyncio.run(_run(args.rows, db, base, args.order == "arrival"))
    finally:
        if not args.keep:
            _admin(args.dsn, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
