"""The usage API's body (DESIGN §7, names from the original) and the one SQL statement it becomes:
`request_audit` of one environment grouped by time bucket and dimensions, one aggregate per metric.

Every metric is a per-row expression (the counts are 0/1 indicators), so any aggregation applies to any
metric: `sum(requestCount)` counts, `avg(errorCount)` is the error ratio. Percentiles are
`percentile_cont` on PostgreSQL and the equivalent aggregate on SQLite (services/audit_reads.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from vmx_app.errors import Invalid
from vmx_app.models import RequestAudit
from vmx_app.models.base import UTCDateTime
from vmx_app.services.usage_time import UNITS, zone

Agg = Literal["sum", "avg", "min", "max", "p50", "p90", "p95", "p99"]
Operator = Literal["eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "is_not"]
Granularity = Literal["minute", "hour", "day", "week", "month", "year"]
assert set(Granularity.__args__) == set(UNITS)  # type: ignore[attr-defined]

C = RequestAudit.__table__.c  # type: ignore[attr-defined]
Expr = ColumnElement[Any]

METRICS: dict[str, Callable[[], Expr]] = {
    "requestCount": lambda: sa.literal(1, sa.Integer),
    "errorCount": lambda: sa.case((C.status_code >= 400, 1), else_=0),
    "successCount": lambda: sa.case((C.status_code < 400, 1), else_=0),
    "promptTokens": lambda: C.prompt_tokens,
    "completionTokens": lambda: C.completion_tokens,
    "cachedTokens": lambda: C.cached_tokens,
    "reasoningTokens": lambda: C.reasoning_tokens,
    "totalTokens": lambda: C.total_tokens,
    "tokensPerSecond": lambda: C.tokens_per_second,
    "timeToFirstToken": lambda: C.time_to_first_token_ms,
    "requestDuration": lambda: C.duration_ms,
    "providerDuration": lambda: C.provider_duration_ms,
    "gateDuration": lambda: C.gate_duration_ms,
    "routingDuration": lambda: C.routing_duration_ms,
    "cost": lambda: C.cost["total"].as_float(),
    "inputCost": lambda: C.cost["input"].as_float(),
    "outputCost": lambda: C.cost["output"].as_float(),
    "cachedCost": lambda: C.cost["cached"].as_float(),
    "reasoningCost": lambda: C.cost["reasoning"].as_float(),
}
INTEGER_METRICS = frozenset({"requestCount", "errorCount", "successCount", "promptTokens", "completionTokens",
                             "cachedTokens", "reasoningTokens", "totalTokens"})
DIMENSIONS: dict[str, str] = {
    "resourceId": "resource_id", "connectionId": "connection_id", "apiKeyId": "api_key_id", "userId": "user_id",
    "provider": "provider", "model": "model", "statusCode": "status_code", "failureReason": "error_type",
    "correlationId": "correlation_id", "sourceIp": "source_ip", "endpoint": "endpoint",
    "resourceName": "resource_name", "connectionName": "connection_name", "apiKeyName": "api_key_name",
}
UUID_DIMENSIONS = frozenset({"resourceId", "connectionId", "apiKeyId", "userId"})
NAME_OF = {"resourceId": "resourceName", "connectionId": "connectionName", "apiKeyId": "apiKeyName"}
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
DEFAULT_RANGE = timedelta(hours=24)
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")


class DateRange(BaseModel):
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FieldFilter(BaseModel):
    operator: Operator = "eq"
    value: Any = None


class UsageFilter(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    date_range: DateRange | None = Field(default=None, alias="dateRange")
    fields: dict[str, FieldFilter] = Field(default_factory=dict)


class UsageQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    granularity: Granularity | None = "hour"
    time_zone: str = Field(default="UTC", alias="timeZone")
    agg: dict[str, Agg | list[Agg]] = Field(default_factory=lambda: {"requestCount": "sum"})
    dimensions: list[str] = Field(default_factory=list, max_length=6)
    filter: UsageFilter = Field(default_factory=UsageFilter)
    order_by: dict[str, Literal["asc", "desc"]] | None = Field(default=None, alias="orderBy")
    limit: int | None = Field(default=None, ge=1, le=100_000)

    def range(self, now: datetime) -> tuple[datetime, datetime]:
        dr = self.filter.date_range
        start, end = (dr.start, dr.end) if dr is not None else (now - DEFAULT_RANGE, now)
        if end <= start:
            raise Invalid("dateRange.end must be after dateRange.start", field="filter.dateRange")
        return start, end

    def outputs(self) -> list[tuple[str, str, Agg]]:
        """(output key, metric, aggregation): a metric asked with a list answers one key per aggregation
        (`requestDuration` with ["p50", "p95"] → `requestDurationP50`, `requestDurationP95`)."""
        out: list[tuple[str, str, Agg]] = []
        for metric, aggs in self.agg.items():
            if metric not in METRICS:
                raise Invalid(f"unknown metric {metric!r}; one of {', '.join(METRICS)}", field=f"agg.{metric}")
            if isinstance(aggs, str):
                out.append((metric, metric, aggs))
            else:
                out.extend((metric + a[0].upper() + a[1:], metric, a) for a in aggs)
        if not out:
            raise Invalid("agg needs at least one metric", field="agg")
        return out

    def checked_dimensions(self) -> list[str]:
        for name in self.dimensions:
            if name not in DIMENSIONS:
                raise Invalid(f"unknown dimension {name!r}; one of {', '.join(DIMENSIONS)}", field="dimensions")
        return list(dict.fromkeys(self.dimensions))


def _aggregate(expr: Expr, agg: Agg, metric: str, sqlite: bool) -> Expr:
    as_float = sa.cast(expr, sa.Float)
    if agg == "sum":
        return func.coalesce(func.sum(expr if metric in INTEGER_METRICS else as_float), 0)
    if agg == "avg":
        return func.avg(as_float)
    if agg == "min":
        return func.min(expr)
    if agg == "max":
        return func.max(expr)
    fraction = PERCENTILES[agg]
    if sqlite:
        return func.vmx_percentile(as_float, fraction)
    return func.percentile_cont(fraction).within_group(as_float)


def bucket_expr(unit: str, tz: str, sqlite: bool, moment: Expr | None = None) -> Expr:
    """The bucket of `moment` (default: the row's created_at)."""
    # Inlined (validated) literals, not bind parameters: GROUP BY must repeat the very same expression.
    unit_sql, tz_sql = sa.literal_column(f"'{unit}'"), sa.literal_column(f"'{tz}'")
    at = C.created_at if moment is None else moment
    if sqlite:
        return sa.type_coerce(func.vmx_bucket(at, unit_sql, tz_sql), UTCDateTime)
    return sa.type_coerce(func.date_trunc(unit_sql, at, tz_sql), UTCDateTime)


def _uuid(name: str, value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{name} filter values must be UUIDs", field=f"filter.fields.{name}") from None


def condition(name: str, flt: FieldFilter, columns: Any = C) -> Expr:
    """The filter on `columns` (request_audit's, or the rollup's: same column names)."""
    if name not in DIMENSIONS:
        raise Invalid(f"unknown filter field {name!r}", field=f"filter.fields.{name}")
    col = columns[DIMENSIONS[name]]
    many = flt.operator in ("in", "nin")
    if many and not isinstance(flt.value, list):
        raise Invalid(f"{flt.operator} takes a list", field=f"filter.fields.{name}")
    convert: Callable[[Any], Any] = (lambda v: _uuid(name, v)) if name in UUID_DIMENSIONS else (lambda v: v)
    value = [convert(v) for v in flt.value] if many else convert(flt.value)
    op = flt.operator
    if op == "is_not":
        return col.is_not(None) if value is None else col.is_distinct_from(value)
    if value is None and op in ("eq", "neq"):
        return col.is_(None) if op == "eq" else col.is_not(None)
    ops: dict[str, Callable[[], Expr]] = {
        "eq": lambda: col == value, "neq": lambda: col != value, "in": lambda: col.in_(value),
        "nin": lambda: col.not_in(value), "gt": lambda: col > value, "gte": lambda: col >= value,
        "lt": lambda: col < value, "lte": lambda: col <= value,
    }
    return ops[op]()


def build_statement(query: UsageQuery, *, workspace_id: uuid.UUID, environment_id: uuid.UUID,
                    start: datetime, end: datetime, sqlite: bool, max_groups: int) -> sa.Select[Any]:
    """SELECT [bucket AS time], dimensions…, aggregates… WHERE this environment and range GROUP BY …;
    at most `max_groups + 1` rows come back (one more than allowed tells the caller it was too many)."""
    if not _ZONE_NAME.match(query.time_zone):
        raise Invalid(f"unknown time zone {query.time_zone!r}", field="timeZone")
    zone(query.time_zone)
    columns: list[Any] = []
    groups: list[Any] = []
    if query.granularity is not None:
        bucket = bucket_expr(query.granularity, query.time_zone, sqlite)
        columns.append(bucket.label("time"))
        groups.append(bucket)
    for name in query.checked_dimensions():
        col = C[DIMENSIONS[name]]
        columns.append(col.label(name))
        groups.append(col)
        if name in NAME_OF and NAME_OF[name] not in query.dimensions:
            columns.append(func.max(C[DIMENSIONS[NAME_OF[name]]]).label(NAME_OF[name]))
    for key, metric, agg in query.outputs():
        columns.append(_aggregate(METRICS[metric](), agg, metric, sqlite).label(key))
    where = [C.workspace_id == workspace_id, C.environment_id == environment_id,
             C.created_at >= start, C.created_at < end]
    where.extend(condition(name, flt) for name, flt in query.filter.fields.items())
    return sa.select(*columns).where(*where).group_by(*groups).limit(max_groups + 1)
