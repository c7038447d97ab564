"""Batch completions of the current environment (`/batches`): the list with progress, a batch created from
an uploaded JSON Lines file, the detail drawer with every item's outcome, cancel. Every read and change
goes through the same use cases as the API (`batch_admin`, `batch_upload`) with the signed-in principal,
so the policy actions `completion-batch:list|get|create|cancel` decide here as they do there.

While a batch on screen is PENDING or RUNNING, a background event reads the page again every
`POLL_EVERY_S`; it stops when nothing is active any more, when the page unmounts (the user left), when
the session ends, or after `POLL_MAX_S` (the Refresh button reads on demand).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import reflex as rx

from vmx_app.auth.policy import module_resource
from vmx_app.errors import DomainError
from vmx_app.services import batch_admin, batch_upload, batches
from vmx_app.services.batch_spec import ENDPOINTS
from vmx_app.settings import get_settings
from vmx_app.state.access import Principal, allowed
from vmx_app.state.batch_rows import BatchRow, ItemRow, batch_row, item_row
from vmx_app.state.messages import error_text
from vmx_app.state.session import login_redirect
from vmx_app.state.workspace import WorkspaceState

log = logging.getLogger("vmx.console")
MODULE = "completion-batch"
UPLOAD_ID = "batch-file"
LIST_LIMIT = 100
DETAIL_ITEMS = 500  # the drawer's table; the download has them all
POLL_EVERY_S = 1.0
POLL_MAX_S = 30 * 60.0
ENDPOINT_LABELS = {"chat": "Chat completions", "responses": "Responses", "anthropic": "Anthropic messages"}


class BatchesState(WorkspaceState):
    rows: list[BatchRow] = []
    list_error: str = ""
    can_create: bool = False
    can_cancel: bool = False
    loaded: bool = False
    # the create dialog
    create_open: bool = False
    create_error: str = ""
    creating: bool = False
    resource_ids: list[str] = []
    resource_names: list[str] = []
    create_resource: str = ""  # the resource for lines that name none ("" until one is chosen)
    create_endpoint: str = "chat"
    # the detail drawer
    detail_open: bool = False
    detail: BatchRow = BatchRow()
    items: list[ItemRow] = []
    items_note: str = ""
    detail_error: str = ""
    # the refresh loop
    polling: bool = False
    _poll_generation: int = 0

    @rx.var
    def resource_options(self) -> list[list[str]]:
        return [[i, n] for i, n in zip(self.resource_ids, self.resource_names, strict=False)]

    @rx.var
    def download_url(self) -> str:
        if not self.detail.id:
            return ""
        return f"/v1/completion-batch/{self.workspace_id}/{self.environment_id}/{self.detail.id}/results"

    @rx.var
    def any_active(self) -> bool:
        return any(r.active for r in self.rows) or (self.detail_open and self.detail.active)

    # ---- reading ------------------------------------------------------------------------------------------

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.rows, self.list_error, self.can_create, self.can_cancel = [], "", False, False
        if not self.environment_id:
            self.detail_open = False
            return
        base = module_resource(self.workspace_name, self.environment_name, MODULE)
        self.can_create = allowed(principal, "completion-batch:create", base)
        self.can_cancel = allowed(principal, "completion-batch:cancel", base)
        await self._read(principal)

    async def _read(self, principal: Principal) -> None:
        """The list, and the open drawer's batch with its items."""
        try:
            found, _ = await batch_admin.list_batches_as(principal, self.workspace_id, self.environment_id,
                                                         limit=LIST_LIMIT)
        except DomainError as exc:
            self.rows, self.list_error = [], error_text(exc)
            return
        self.rows = [batch_row(b) for b in found]
        self.list_error = ""
        if self.detail_open and self.detail.id:
            await self._read_detail(principal, self.detail.id)

    async def _read_detail(self, principal: Principal, batch_id: str) -> None:
        try:
            batch, _ = await batch_admin.get_batch_as(principal, self.workspace_id, self.environment_id, batch_id)
        except DomainError as exc:
            self.detail_error = error_text(exc)
            return
        items = await batches.list_items(batch, limit=DETAIL_ITEMS)
        self.detail, self.items, self.detail_error = batch_row(batch), [item_row(i) for i in items], ""
        self.items_note = (f"Showing the first {DETAIL_ITEMS} of {batch.total_items} items; the download has them all."
                           if batch.total_items > DETAIL_ITEMS else "")

    @rx.event
    async def load(self) -> Any:
        self.loaded = False
        self.detail_open = False
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self._refresh(principal)
        self.loaded = True
        return BatchesState.poll if self.any_active else None

    @rx.event
    async def refresh(self) -> Any:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        await self._read(principal)
        return BatchesState.poll if self.any_active else None

    # ---- polling ------------------------------------------------------------------------------------------

    @rx.event(background=True)
    async def poll(self) -> None:
        """Read the page again while anything on it is still running (one loop per tab)."""
        async with self:
            if self.polling:
                return
            self.polling = True
            self._poll_generation += 1
            generation = self._poll_generation
        started = time.monotonic()
        while True:
            await asyncio.sleep(POLL_EVERY_S)
            async with self:
                if self._poll_generation != generation:
                    return  # stopped (or replaced by a newer loop)
                try:
                    principal = await self.current_principal()
                    if principal is not None:
                        await self._read(principal)
                except Exception:  # noqa: BLE001 - a database hiccup ends the loop, not the page
                    log.exception("batches page refresh failed")
                    principal = None
                if principal is None or not self.any_active or time.monotonic() - started > POLL_MAX_S:
                    self.polling = False
                    self._poll_generation += 1
                    return

    @rx.event
    def stop_polling(self) -> None:
        """The page unmounted: the loop ends at its next wake-up."""
        self.polling = False
        self._poll_generation += 1

    # ---- creating -----------------------------------------------------------------------------------------

    @rx.event
    async def set_create_open(self, value: bool) -> Any:
        self.create_open = value
        self.create_error = ""
        if not value:
            return rx.clear_selected_files(UPLOAD_ID)
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            choices = await batch_upload.resource_choices_as(principal, self.workspace_id, self.environment_id)
        except DomainError as exc:
            self.create_error = error_text(exc)
            choices = []
        self.resource_ids = [c[0] for c in choices]
        self.resource_names = [c[1] for c in choices]
        if self.create_resource not in self.resource_ids:
            self.create_resource = self.resource_ids[0] if len(self.resource_ids) == 1 else ""
        return None

    @rx.event
    def set_create_resource(self, value: str) -> None:
        self.create_resource = value

    @rx.event
    def set_create_endpoint(self, value: str) -> None:
        if value in ENDPOINTS:
            self.create_endpoint = value

    @rx.event
    async def create(self, files: list[rx.UploadFile]) -> Any:
        """The uploaded file becomes one async batch, or the dialog says which line is wrong."""
        self.create_error = ""
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        if not files:
            self.create_error = "Choose a JSON Lines file (.jsonl) first: one request on each line."
            return None
        upload = files[0]
        limit = get_settings().vmx_batch_max_body_bytes
        if upload.size is not None and upload.size > limit:  # refused before it is read into memory
            self.create_error = f"The file is over {limit:,} bytes (VMX_BATCH_MAX_BODY_BYTES): split it in two."
            return None
        try:
            data = await upload.read()
            batch = await batch_upload.create_from_jsonl_as(
                principal, self.workspace_id, self.environment_id, data, resource_id=self.create_resource,
                endpoint=self.create_endpoint)
        except DomainError as exc:
            text = error_text(exc)
            self.create_error = text[:1].upper() + text[1:]  # "Line 3, request: …" starts the sentence
            return None
        self.create_open = False
        await self._read(principal)
        return [rx.clear_selected_files(UPLOAD_ID),
                rx.toast.success(f"Batch {str(batch.id).split('-')[0]} created with {batch.total_items} requests"),
                BatchesState.poll]

    # ---- one batch ----------------------------------------------------------------------------------------

    @rx.event
    async def open_detail(self, batch_id: str) -> Any:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        self.detail = next((r for r in self.rows if r.id == batch_id), BatchRow(id=batch_id))
        self.items, self.items_note = [], ""
        await self._read_detail(principal, batch_id)
        self.detail_open = True
        return BatchesState.poll if self.any_active else None

    @rx.event
    def set_detail_open(self, value: bool) -> None:
        self.detail_open = value

    @rx.event
    async def cancel(self, batch_id: str) -> Any:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            batch = await batch_admin.cancel_batch_as(principal, self.workspace_id, self.environment_id, batch_id)
        except DomainError as exc:
            await self._read(principal)
            return rx.toast.error(error_text(exc))
        await self._read(principal)
        short = str(batch.id).split("-")[0]
        return [rx.toast.success(f"Batch {short} cancelled: no new request starts; running ones finish"),
                BatchesState.poll]


def endpoint_choices() -> list[tuple[str, str]]:
    return [(e, ENDPOINT_LABELS.get(e, e)) for e in ENDPOINTS]
