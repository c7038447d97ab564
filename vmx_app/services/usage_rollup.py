"""The usage query answered from `request_audit_rollup` (PostgreSQL, migration 0008): per environment, UTC
hour, resource, connection, provider, model, endpoint and error (status >= 400), the request count, token
sums, cost sum and latency sums/min/max (with non-null counts), kept by a trigger in the inserting
transaction.

Used only when the answer is exactly the raw one: aggregations the rollup holds (`supported`; never
percentiles), dimensions and filters among the rollup's keys (not statusCode: only error or not), and
every time bucket boundary on a whole UTC hour (UTC and whole-hour zones; Asia/Kolkata's half hours or
minute buckets read raw rows). The range's partial hours at both ends come
from raw rows projected to the same shape, so any start/end is exact. Floating sums add in another order
than a raw `sum` (a difference in the last bits), integers are exact.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func

from vmx_app.models.base import UTCDateTime
from vmx_app.services.usage_query import METRICS, C, UsageQuery, bucket_expr, condition
from vmx_app.services.usage_time import buckets

TABLE = "request_audit_rollup"
KEY_DIMENSIONS = {"resourceId": "resource_id", "connectionId": "connection_id", "provider": "provider",
                  "model": "model", "endpoint": "endpoint"}
NAMES = {"resourceId": "resource_name", "connectionId": "connection_name"}
INDICATORS = {"requestCount": None, "errorCount": True, "successCount": False}  # True: status >= 400
SUMS = {"promptTokens": "prompt_tokens", "completionTokens": "completion_tokens", "cachedTokens": "cached_tokens",
        "reasoningTokens": "reasoning_tokens", "totalTokens": "total_tokens"}  # integers, never NULL: count is n
FLOATS = {"cost": "cost_total", "requestDuration": "duration_ms", "providerDuration": "provider_duration_ms",
          "timeToFirstToken": "time_to_first_token_ms", "tokensPerSecond": "tokens_per_second"}
WITH_MIN_MAX = frozenset({"requestDuration", "providerDuration", "timeToFirstToken", "tokensPerSecond"})
assert set(INDICATORS) | set(SUMS) | set(FLOATS) <= set(METRICS)


def supported(metric: str, agg: str) -> bool:
    """Whether the rollup holds what (metric, agg) needs (the migration's columns)."""
    if metric in INDICATORS:
        return agg in ("sum", "avg", "min", "max")
    if metric in SUMS or metric in FLOATS:
        return agg in ("sum", "avg") or (agg in ("min", "max") and metric in WITH_MIN_MAX)
    return False


_TYPES: dict[str, Any] = {"environment_id": sa.Uuid(), "workspace_id": sa.Uuid(), "resource_id": sa.Uuid(),
                          "connection_id": sa.Uuid(), "hour": UTCDateTime(), "error": sa.Boolean()}
_COLUMNS = ("environment_id", "workspace_id", "hour", *KEY_DIMENSIONS.values(), "error", *NAMES.values(), "n",
            *(f"sum_{c}" for c in SUMS.values()), *(f"{p}_{c}" for c in FLOATS.values() for p in ("sum", "cnt")),
            *(f"{p}_{FLOATS[m]}" for m in sorted(WITH_MIN_MAX) for p in ("min", "max")))
R = sa.table(TABLE, *(sa.column(c, _TYPES.get(c)) for c in _COLUMNS))


def _floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _whole_hours(query: UsageQuery, start: datetime, end: datetime) -> bool:
    if query.granularity is None:
        return True
    if query.granularity == "minute":
        return False
    return all(at == _floor_hour(at) for at in buckets(start, end, query.granularity, query.time_zone))


def answerable(query: UsageQuery, start: datetime, end: datetime) -> bool:
    """True when the rollup gives the raw answer (see the module's docstring)."""
    if not all(supported(metric, agg) for _, metric, agg in query.outputs()):
        return False
    if any(d not in KEY_DIMENSIONS for d in query.checked_dimensions()):
        return False
    if any(f not in KEY_DIMENSIONS for f in query.filter.fields):
        return False
    return _whole_hours(query, start, end)


def _raw_parts(metrics: set[str], names: list[str], dims: list[str]) -> list[Any]:
    """Raw rows shaped like rollup rows (n = 1, each metric its own sum, count, min and max)."""
    cols: list[Any] = [func.date_trunc(sa.literal_column("'hour'"), C.created_at, sa.literal_column("'UTC'"))
                       .label("hour"), *(C[KEY_DIMENSIONS[d]].label(KEY_DIMENSIONS[d]) for d in dims),
                       (C.status_code >= 400).label("error"), *(C[n].label(n) for n in names),
                       sa.literal(1, sa.BigInteger).label("n")]
    for metric in sorted(metrics):
        if metric in SUMS:
            cols.append(C[SUMS[metric]].label(f"sum_{SUMS[metric]}"))
        elif metric in FLOATS:
            col, expr = FLOATS[metric], sa.cast(METRICS[metric](), sa.Float)
            cols += [expr.label(f"sum_{col}"), sa.case((expr.is_(None), 0), else_=1).label(f"cnt_{col}")]
            if metric in WITH_MIN_MAX:
                cols += [expr.label(f"min_{col}"), expr.label(f"max_{col}")]
    return cols


def _rollup_parts(metrics: set[str], names: list[str], dims: list[str]) -> list[Any]:
    cols: list[Any] = [R.c.hour, *(R.c[KEY_DIMENSIONS[d]] for d in dims), R.c.error, *(R.c[n] for n in names), R.c.n]
    for metric in sorted(metrics):
        if metric in SUMS:
            cols.append(R.c[f"sum_{SUMS[metric]}"])
        elif metric in FLOATS:
            kinds = ("sum", "cnt", "min", "max") if metric in WITH_MIN_MAX else ("sum", "cnt")
            cols += [R.c[f"{p}_{FLOATS[metric]}"] for p in kinds]
    return cols


def _aggregate(p: Any, metric: str, agg: str) -> Any:
    as_float = sa.Float()
    if metric in INDICATORS:
        errors = INDICATORS[metric]
        one = sa.literal(1, sa.BigInteger) if errors is None else sa.case(
            (p.error if errors else sa.not_(p.error), 1), else_=0)
        if agg == "sum":
            return func.coalesce(func.sum(p.n * one), 0)
        if agg == "avg":
            return sa.cast(func.sum(p.n * one), as_float) / sa.cast(func.sum(p.n), as_float)
        return (func.min if agg == "min" else func.max)(one)
    col = SUMS.get(metric) or FLOATS[metric]
    if agg == "sum":
        return func.coalesce(func.sum(p[f"sum_{col}"]), 0)
    if agg == "min":
        return func.min(p[f"min_{col}"])
    if agg == "max":
        return func.max(p[f"max_{col}"])
    count = p.n if metric in SUMS else p[f"cnt_{col}"]
    return sa.cast(func.sum(p[f"sum_{col}"]), as_float) / func.nullif(sa.cast(func.sum(count), as_float), 0)


def build_rollup_statement(query: UsageQuery, *, workspace_id: uuid.UUID, environment_id: uuid.UUID,
                           start: datetime, end: datetime, max_groups: int) -> sa.Select[Any]:
    """The same columns as usage_query.build_statement: whole hours from the rollup, the partial hours
    at both ends from raw rows, aggregated together."""
    dims = query.checked_dimensions()
    names = [NAMES[d] for d in dims if d in NAMES]
    outputs = query.outputs()
    metrics = {metric for _, metric, _ in outputs}
    first = _floor_hour(start) if start == _floor_hour(start) else _floor_hour(start) + timedelta(hours=1)
    last = max(_floor_hour(end), first)
    fields = query.filter.fields.items()
    rolled = sa.select(*_rollup_parts(metrics, names, dims)).where(
        R.c.workspace_id == workspace_id, R.c.environment_id == environment_id, R.c.hour >= first,
        R.c.hour < last, *(condition(name, flt, R.c) for name, flt in fields))
    edges = sa.or_(sa.and_(C.created_at >= start, C.created_at < min(first, end)),
                   sa.and_(C.created_at >= last, C.created_at < end))
    raw = sa.select(*_raw_parts(metrics, names, dims)).where(
        C.workspace_id == workspace_id, C.environment_id == environment_id, edges,
        *(condition(name, flt) for name, flt in fields))
    p = sa.union_all(rolled, raw).subquery("parts").c
    columns: list[Any] = []
    groups: list[Any] = []
    if query.granularity is not None:
        bucket = bucket_expr(query.granularity, query.time_zone, False, sa.type_coerce(p.hour, UTCDateTime))
        columns.append(bucket.label("time"))
        groups.append(bucket)
    for name in dims:
        col = p[KEY_DIMENSIONS[name]]
        columns.append(col.label(name))
        groups.append(col)
        if name in NAMES and _api_name(name) not in query.dimensions:
            columns.append(func.max(p[NAMES[name]]).label(_api_name(name)))
    columns += [_aggregate(p, metric, agg).label(key) for key, metric, agg in outputs]
    return sa.select(*columns).group_by(*groups).limit(max_groups + 1)


def _api_name(dimension: str) -> str:
    return {"resourceId": "resourceName", "connectionId": "connectionName"}[dimension]
