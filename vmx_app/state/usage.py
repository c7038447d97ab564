"""The usage dashboard's state: totals, charts over time and a breakdown, each one query of the usage
service (the same code that answers `POST /v1/completion-usage`), never a query of its own."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.services import audit_admin
from vmx_app.services.usage_query import UsageQuery
from vmx_app.state.access import Principal
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import WorkspaceState

RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
BREAKDOWNS = {"resource": "resourceId", "model": "model", "connection": "connectionId", "api key": "apiKeyId"}
NAME_KEYS = {"resourceId": "resourceName", "connectionId": "connectionName", "apiKeyId": "apiKeyName"}
SERIES = {
    "requestCount": "sum", "errorCount": "sum", "successCount": "sum", "promptTokens": "sum", "completionTokens": "sum",
    "cachedTokens": "sum", "reasoningTokens": "sum", "cost": "sum", "requestDuration": ["p50", "p95", "p99"],
    "timeToFirstToken": ["p50", "p95"], "tokensPerSecond": "avg",
}


@dataclasses.dataclass
class BreakdownRow:
    name: str = ""
    requests: int = 0
    errors: int = 0
    tokens: int = 0
    cost: str = ""
    p95: str = ""


def _minus(whole: float | None, part: float | None) -> float | None:
    return None if whole is None else whole - (part or 0)


def _stackable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stacked token bars must not count a subset twice: cached tokens are part of the prompt's and
    reasoning tokens part of the completion's (OpenAI's semantics), so each bucket is split into disjoint
    parts that add up to its total (requests stack successCount and errorCount, disjoint already)."""
    return [{**r, "uncachedTokens": _minus(r.get("promptTokens"), r.get("cachedTokens")),
             "answerTokens": _minus(r.get("completionTokens"), r.get("reasoningTokens"))} for r in rows]


def _figure(rows: list[dict[str, Any]], series: dict[str, str], title: str, kind: str = "line") -> go.Figure:
    times = [r["time"] for r in rows]
    fig = go.Figure()
    empty = True
    for key, label in series.items():
        values = [r.get(key) for r in rows]
        empty = empty and all(v is None for v in values)  # a zero (a cost of $0) is a measurement
        if kind == "bar":
            fig.add_bar(x=times, y=values, name=label)
        else:
            fig.add_scatter(x=times, y=values, name=label, mode="lines+markers", connectgaps=False)
    # The legend sits above the plot, right of the title: below it, it ran into the axis' date labels.
    fig.update_layout(title={"text": title, "x": 0.02, "y": 0.97}, height=280, barmode="stack",
                      margin={"l": 45, "r": 10, "t": 50, "b": 45},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    if empty:  # say so, rather than an axis from -1 to 4 that looks like a measurement
        fig.add_annotation(text="No data in this range", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def _money(value: float | None) -> str:
    return "$0" if not value else f"${value:,.6f}"


class UsageState(WorkspaceState):
    granularity: str = "hour"
    range_key: str = "24h"
    time_zone: str = "UTC"
    f_provider: str = ""
    f_model: str = ""
    breakdown_by: str = "resource"
    error: str = ""
    total_requests: int = 0
    total_errors: int = 0
    total_tokens: int = 0
    total_cost: str = "$0"
    p95_latency: str = "—"
    fig_requests: go.Figure = go.Figure()
    fig_tokens: go.Figure = go.Figure()
    fig_cost: go.Figure = go.Figure()
    fig_latency: go.Figure = go.Figure()
    fig_ttft: go.Figure = go.Figure()
    fig_tps: go.Figure = go.Figure()
    breakdown: list[BreakdownRow] = []

    def _query(self, now: datetime, **extra: Any) -> UsageQuery:
        fields = {k: {"operator": "eq", "value": v} for k, v in (("provider", self.f_provider),
                                                                ("model", self.f_model)) if v}
        start = now - RANGES.get(self.range_key, RANGES["24h"])
        body = {"timeZone": self.time_zone or "UTC", "agg": SERIES,
                "filter": {"dateRange": {"start": start.isoformat(), "end": now.isoformat()}, "fields": fields},
                **extra}
        return UsageQuery.model_validate(body)

    async def _read(self, principal: Principal) -> None:
        self.error = ""
        if not self.environment_id:
            return
        now = datetime.now(UTC)
        dim = BREAKDOWNS.get(self.breakdown_by, "resourceId")
        try:
            series, totals, parts = await audit_admin.usage_as(principal, self.workspace_id, self.environment_id, [
                self._query(now, granularity=self.granularity),
                self._query(now, granularity=None),
                self._query(now, granularity=None, dimensions=[dim], orderBy={"requestCount": "desc"}, limit=50),
            ])
        except DomainError as exc:
            self.error = error_text(exc)
            return
        total = totals[0] if totals else {}
        self.total_requests = int(total.get("requestCount") or 0)
        self.total_errors = int(total.get("errorCount") or 0)
        self.total_tokens = int((total.get("promptTokens") or 0) + (total.get("completionTokens") or 0))
        self.total_cost = _money(total.get("cost"))
        p95 = total.get("requestDurationP95")
        self.p95_latency = "—" if p95 is None else f"{p95:.0f} ms"
        series = _stackable(series)
        self.fig_requests = _figure(series, {"successCount": "succeeded", "errorCount": "errors"}, "Requests", "bar")
        self.fig_tokens = _figure(series, {"uncachedTokens": "prompt", "cachedTokens": "cached prompt",
                                           "answerTokens": "completion", "reasoningTokens": "reasoning"},
                                  "Tokens", "bar")
        self.fig_cost = _figure(series, {"cost": "USD"}, "Cost", "bar")
        self.fig_latency = _figure(series, {"requestDurationP50": "p50", "requestDurationP95": "p95",
                                            "requestDurationP99": "p99"}, "Latency (ms)")
        self.fig_ttft = _figure(series, {"timeToFirstTokenP50": "p50", "timeToFirstTokenP95": "p95"},
                                "Time to first token (ms)")
        self.fig_tps = _figure(series, {"tokensPerSecond": "avg"}, "Tokens per second")
        self.breakdown = [BreakdownRow(
            name=str(p.get(NAME_KEYS.get(dim, dim)) or p.get(dim) or "—"), requests=int(p["requestCount"] or 0),
            errors=int(p["errorCount"] or 0),
            tokens=int((p.get("promptTokens") or 0) + (p.get("completionTokens") or 0)),
            cost=_money(p.get("cost")),
            p95="—" if p.get("requestDurationP95") is None else f"{p['requestDurationP95']:.0f} ms",
        ) for p in parts]

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        await self._read(principal)
        return None

    @rx.event
    async def apply(self, form: dict[str, Any]) -> EventSpec | None:
        self.granularity = str(form.get("granularity") or self.granularity)
        self.range_key = str(form.get("range") or self.range_key)
        self.time_zone = str(form.get("time_zone") or "UTC").strip()
        self.f_provider = str(form.get("provider", "")).strip()
        self.f_model = str(form.get("model", "")).strip()
        self.breakdown_by = str(form.get("breakdown") or self.breakdown_by)
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login")
        await self._read(principal)
        return None
