"""The audit page's state: the filter bar, a newest-first page of rows (keyset "more"), the detail
drawer of one row, export links and a live tail. Reads through the same service as the audit API."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import reflex as rx
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.services import audit_admin
from vmx_app.services.audit_log import AuditFilters
from vmx_app.state.access import Principal
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import WorkspaceState

PAGE_ROWS = 50
TAIL_EVERY_S = 3.0
ANY = "any"  # a select's "no filter" item (Radix selects take no empty value)


@dataclasses.dataclass
class AuditRow:
    id: str = ""
    time: str = ""
    resource: str = ""
    model: str = ""
    provider: str = ""
    status: int = 0
    tokens: int = 0
    cost: str = ""
    latency: str = ""
    correlation_id: str = ""
    events: int = 0


def _row(item: dict[str, Any]) -> AuditRow:
    cost = (item.get("cost") or {}).get("total")
    return AuditRow(
        id=item["id"], time=item["createdAt"].replace("T", " ")[:23], resource=item.get("resourceName") or "",
        model=item.get("model") or "", provider=item.get("provider") or "", status=item["statusCode"],
        tokens=item.get("totalTokens") or 0, cost="" if cost is None else f"${cost:.6f}",
        latency=f"{item.get('durationMs') or 0:.0f} ms", correlation_id=item.get("correlationId") or "",
        events=len(item.get("events") or []))


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() if value is not None else "—"


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _moment(value: str) -> datetime | None:
    """A datetime-local input's value (the browser's wall time, read as UTC) or None."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


@dataclasses.dataclass
class Choice:
    id: str = ""
    name: str = ""


def _choices(pairs: list[tuple[str, str]]) -> list[Choice]:
    return [Choice(id=row_id, name=name) for row_id, name in pairs]


def _picked(value: Any) -> str:
    """A picker's id, "" for its "Any …" item."""
    text = str(value or "").strip()
    return "" if text == ANY else text


class AuditState(WorkspaceState):
    rows: list[AuditRow] = []
    next_cursor: str = ""
    list_error: str = ""
    # filter bar: the resource, connection and API key are picked by name, filtered by id
    resource_choices: list[Choice] = []
    connection_choices: list[Choice] = []
    api_key_choices: list[Choice] = []
    filter_bar_key: int = 0  # bumped when the state resets the filters: the bar's fields show them anew
    f_resource: str = ""
    f_connection: str = ""
    f_api_key: str = ""
    f_provider: str = ""
    f_model: str = ""
    f_status: str = ""
    f_correlation: str = ""
    f_error_text: str = ""
    f_error_only: bool = False
    f_start: str = ""
    f_end: str = ""
    # detail drawer
    detail_open: bool = False
    detail_title: str = ""
    detail_request: str = ""
    detail_response: str = ""
    detail_events: str = ""
    detail_timings: str = ""
    detail_error: str = ""
    live_tail: bool = False

    def _filters(self) -> AuditFilters:
        return AuditFilters(start=_moment(self.f_start), end=_moment(self.f_end),
                            resource_id=_uuid(self.f_resource), connection_id=_uuid(self.f_connection),
                            api_key_id=_uuid(self.f_api_key), provider=self.f_provider or None,
                            model=self.f_model or None, status=self.f_status or None,
                            correlation_id=self.f_correlation or None, error_only=self.f_error_only,
                            error_text=self.f_error_text or None)

    @rx.var
    def export_query(self) -> str:
        params = {"start": self.f_start, "end": self.f_end, "resourceId": self.f_resource,
                  "connectionId": self.f_connection, "apiKeyId": self.f_api_key, "provider": self.f_provider,
                  "model": self.f_model, "statusCode": self.f_status,
                  "correlationId": self.f_correlation, "errorMessage": self.f_error_text,
                  "errorOnly": "true" if self.f_error_only else ""}
        return urlencode({k: v for k, v in params.items() if v})

    @rx.var
    def export_base(self) -> str:
        return f"/v1/completion-audit/{self.workspace_id}/{self.environment_id}/export"

    async def _read(self, principal: Principal, *, more: bool = False) -> None:
        self.list_error = ""
        if not self.environment_id:
            self.rows, self.next_cursor = [], ""
            return
        try:
            page = await audit_admin.list_rows_as(principal, self.workspace_id, self.environment_id,
                                                  self._filters(), cursor=self.next_cursor if more else None,
                                                  limit=PAGE_ROWS)
        except DomainError as exc:
            self.rows, self.next_cursor = [], ""
            self.list_error = error_text(exc)
            return
        fresh = [_row(item) for item in page["data"]]
        self.rows = [*self.rows, *fresh] if more else fresh
        self.next_cursor = page["nextCursor"] or ""

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        await self._load_choices(principal)
        await self._read(principal)
        return None

    async def _load_choices(self, principal: Principal) -> None:
        choices: dict[str, list[tuple[str, str]]] = {}
        if self.environment_id:
            with contextlib.suppress(DomainError):  # no pickers; the list says why (the same check refuses it)
                choices = await audit_admin.filter_choices_as(principal, self.workspace_id, self.environment_id)
        self.resource_choices = _choices(choices.get("ai-resource", []))
        self.connection_choices = _choices(choices.get("ai-connection", []))
        self.api_key_choices = _choices(choices.get("api-key", []))
        # A pick of another environment, or one no longer offered (its picker may be hidden), would filter
        # out rows unseen.
        for field, listed in (("f_resource", self.resource_choices), ("f_connection", self.connection_choices),
                              ("f_api_key", self.api_key_choices)):
            if getattr(self, field) not in {c.id for c in listed}:
                setattr(self, field, "")

    @rx.event
    async def apply_filters(self, form: dict[str, Any]) -> EventSpec | None:
        for name in ("resource", "connection", "api_key"):
            setattr(self, f"f_{name}", _picked(form.get(name)))
        for name in ("provider", "model", "status", "correlation", "error_text", "start", "end"):
            setattr(self, f"f_{name}", str(form.get(name) or "").strip())  # typed text: "any" is a model name
        self.f_error_only = bool(form.get("error_only"))
        return await self._reload()

    async def _reload(self, *, more: bool = False) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login")
        await self._read(principal, more=more)
        return None

    @rx.event
    async def more(self) -> EventSpec | None:
        return await self._reload(more=True)

    @rx.event
    async def by_correlation(self, correlation_id: str) -> EventSpec | None:
        """The correlation id's link: every row of that trace."""
        self.f_resource = self.f_connection = self.f_api_key = ""
        self.f_provider = self.f_model = self.f_status = self.f_error_text = ""
        self.f_start = self.f_end = ""
        self.f_error_only = False
        self.f_correlation = correlation_id
        self.filter_bar_key += 1
        self.detail_open = False
        return await self._reload()

    @rx.event
    async def open_detail(self, row_id: str) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login")
        try:
            item = await audit_admin.get_row_as(principal, self.workspace_id, self.environment_id, row_id)
        except DomainError as exc:
            return rx.toast.error(str(getattr(exc, "message", exc)))
        self.detail_title = f"{item.get('resourceName') or '—'} · {item['statusCode']} · {item['requestId']}"
        self.detail_request = _pretty(item.get("requestPayload"))
        self.detail_response = _pretty(item.get("responsePayload"))
        self.detail_events = _pretty(item.get("events"))
        self.detail_error = " ".join(filter(None, [item.get("errorType"), item.get("errorMessage")]))
        self.detail_timings = _pretty({k: item.get(k) for k in (
            "durationMs", "providerDurationMs", "gateDurationMs", "routingDurationMs", "timeToFirstTokenMs",
            "tokensPerSecond", "promptTokens", "completionTokens", "cachedTokens", "reasoningTokens", "cost")})
        self.detail_open = True
        return None

    @rx.event
    def set_detail_open(self, value: bool) -> None:
        self.detail_open = value

    @rx.event
    def set_live_tail(self, value: bool) -> Any:
        self.live_tail = value
        return AuditState.tail if value else None

    @rx.event(background=True)
    async def tail(self) -> None:
        """While the toggle is on: the newest page again every few seconds."""
        while True:
            await asyncio.sleep(TAIL_EVERY_S)
            async with self:
                if not self.live_tail:
                    return
                principal = await self.current_principal()
                if principal is None:
                    self.live_tail = False
                    return
                await self._read(principal)
