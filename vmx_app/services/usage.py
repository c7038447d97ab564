"""`POST /v1/completion-usage/{ws}/{env}`: aggregate `request_audit` on demand (seed 000: no separate
time-series store), fill the empty time buckets, order and cut to `limit`.

The answer is `{"data": [{"time": <bucket start in timeZone, ISO 8601>, <dimension>: …, <metric>: …}]}`;
an id dimension also answers its name. Empty buckets answer 0 for sums and null for the rest, like a
bucket whose rows have no value for that metric.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from vmx_app.errors import TooLarge
from vmx_app.services import usage_rollup
from vmx_app.services.audit_reads import fetch_all, is_sqlite
from vmx_app.services.usage_query import INTEGER_METRICS, UsageQuery, build_statement
from vmx_app.services.usage_time import bucket_count, buckets, zone

MAX_ROWS = 100_000  # groups a query may produce (after filling): beyond, ask for a coarser query


def _number(value: Any, integer: bool) -> Any:
    if value is None:
        return None
    if integer and (isinstance(value, int) or (isinstance(value, Decimal | float) and value == int(value))):
        return int(value)
    return float(value)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _sort_key(value: Any) -> tuple[int, Any]:
    """Nulls last; numbers and strings never compared with each other."""
    if value is None:
        return (2, "")
    return (0, value) if isinstance(value, int | float) else (1, str(value))


async def query_usage(query: UsageQuery, *, workspace_id: uuid.UUID, environment_id: uuid.UUID,
                      now: datetime | None = None) -> dict[str, Any]:
    start, end = query.range(now or datetime.now(UTC))
    outputs = query.outputs()
    dims = query.checked_dimensions()
    if query.granularity is not None and bucket_count(start, end, query.granularity) > MAX_ROWS:
        raise TooLarge(f"more than {MAX_ROWS} {query.granularity} buckets: use a shorter dateRange or a "
                       "coarser granularity", field="granularity")
    sqlite = is_sqlite()
    if not sqlite and usage_rollup.answerable(query, start, end):
        statement = usage_rollup.build_rollup_statement(query, workspace_id=workspace_id, environment_id=environment_id,
                                                        start=start, end=end, max_groups=MAX_ROWS)
    else:
        statement = build_statement(query, workspace_id=workspace_id, environment_id=environment_id,
                                    start=start, end=end, sqlite=sqlite, max_groups=MAX_ROWS)
    rows = [dict(r._mapping) for r in await fetch_all(statement)]
    if len(rows) > MAX_ROWS:
        raise TooLarge(f"more than {MAX_ROWS} groups: add filters or fewer dimensions", field="dimensions")
    integer = {key for key, metric, agg in outputs if metric in INTEGER_METRICS and agg in ("sum", "min", "max")}
    for row in rows:
        for key, _metric, _agg in outputs:
            row[key] = _number(row[key], key in integer)
        for name in list(row):
            row[name] = _plain(row[name])
    if query.granularity is not None:
        rows = _fill(rows, query, dims, start, end, outputs)
    rows = _ordered(rows, query, dims)[: query.limit or None]
    if query.granularity is not None:
        tz = zone(query.time_zone)
        for row in rows:
            row["time"] = row["time"].astimezone(tz).isoformat()
    return {"data": rows}


def _fill(rows: list[dict[str, Any]], query: UsageQuery, dims: list[str], start: datetime, end: datetime,
          outputs: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Every bucket of the range for every dimension combination that has data (no dimensions: one)."""
    assert query.granularity is not None
    seen = {(r["time"].astimezone(UTC), tuple(r[d] for d in dims)) for r in rows}
    combos: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        combos.setdefault(tuple(row[d] for d in dims), {k: v for k, v in row.items() if k != "time"
                                                         and k not in {o[0] for o in outputs}})
    if not dims:
        combos.setdefault((), {})
    series = list(buckets(start, end, query.granularity, query.time_zone))
    if len(series) * len(combos) > MAX_ROWS:
        raise TooLarge(f"more than {MAX_ROWS} rows once empty buckets are filled: narrow the query",
                       field="granularity")
    empty = {key: (0 if agg == "sum" else None) for key, _metric, agg in outputs}
    filled = list(rows)
    for combo, labels in combos.items():
        for at in series:
            if (at, combo) not in seen:
                filled.append({"time": at, **labels, **empty})
    return filled


def _ordered(rows: list[dict[str, Any]], query: UsageQuery, dims: list[str]) -> list[dict[str, Any]]:
    order = dict(query.order_by or {})
    if not order:
        order = ({"time": "asc"} if query.granularity is not None else {}) | {d: "asc" for d in dims}
    for field, direction in reversed(order.items()):  # stable sorts, last key first
        rows.sort(key=lambda r: _sort_key(r.get(field)), reverse=direction == "desc")
    return rows


async def spend_this_month(workspace_id: uuid.UUID, environment_id: uuid.UUID, dimension: str,
                           now: datetime | None = None) -> dict[str, float]:
    """Cost (USD) per value of `dimension` since the start of the month (UTC), e.g. per API key."""
    now = now or datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    query = UsageQuery.model_validate({"granularity": None, "dimensions": [dimension], "agg": {"cost": "sum"},
                                       "filter": {"dateRange": {"start": start.isoformat(), "end": now.isoformat()}}})
    rows = (await query_usage(query, workspace_id=workspace_id, environment_id=environment_id, now=now))["data"]
    return {str(r[dimension]): float(r["cost"] or 0.0) for r in rows if r[dimension] is not None}
