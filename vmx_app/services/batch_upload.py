"""Batches from a JSON Lines file (the console's upload, issue 14) and their results as JSON Lines.

Each non-blank line is one of:
- an item, `{"resourceName"|"resourceId", "request", "customId"?, "endpoint"?}` (the API's item shape);
  a missing resource or endpoint is taken from the form's choice;
- an OpenAI batch line, `{"custom_id", "url": "/v1/chat/completions", "body"}`;
- a bare request body, run on the resource and endpoint chosen in the form.

The batch is checked by the same `batch_spec` rules as the API (whole or not at all); a fault names the
file's line (`line 7, request.messages`) instead of the item's index.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from vmx_app.auth.authorization import Principal
from vmx_app.errors import DomainError, Invalid, TooLarge
from vmx_app.json_limits import json_depth
from vmx_app.models.completion_batch import CompletionBatch, CompletionBatchItem
from vmx_app.services import batch_admin, batches
from vmx_app.services.batch_spec import ENDPOINTS
from vmx_app.settings import get_settings

# OpenAI batch lines name the endpoint by URL.
URL_ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/responses": "responses", "/v1/messages": "anthropic"}
_ITEM_REF = re.compile(r"items\[(\d+)\](\.?)")
_EXPORT_PAGE = 1000


@dataclass(frozen=True, slots=True)
class JsonlBatch:
    items: list[dict[str, Any]]
    lines: list[int]  # the file's line number (1-based) of each item


def parse_jsonl(data: bytes, *, resource_id: str = "", endpoint: str = "chat") -> JsonlBatch:
    """The file's items, in order; `resource_id` / `endpoint`: the form's choice for lines that lack one."""
    if endpoint not in ENDPOINTS:
        raise Invalid(f"the endpoint must be one of {', '.join(ENDPOINTS)}", field="endpoint")
    try:
        text = data.decode("utf-8-sig")  # a BOM from a spreadsheet export is tolerated
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text: save it as JSON Lines (.jsonl)", field="file") from None
    max_depth = get_settings().vmx_max_json_depth
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"line {number}"
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise Invalid(f"{where} is not valid JSON: put one JSON object on each line", field=where) from None
        if not isinstance(value, dict):
            raise Invalid(f"{where} must be a JSON object (a request body or an item)", field=where)
        if json_depth(value) > max_depth:
            raise Invalid(f"{where} is nested deeper than {max_depth} levels", field=where)
        if "\\u0000" in raw:  # PostgreSQL stores no NUL character
            raise Invalid(f"{where} holds a NUL character (\\u0000), which cannot be stored", field=where)
        items.append(_line_item(where, value, resource_id, endpoint))
        lines.append(number)
    if not items:
        raise Invalid("the file holds no requests: put one JSON object on each line", field="file")
    return JsonlBatch(items, lines)


def _line_item(where: str, value: dict[str, Any], resource_id: str, endpoint: str) -> dict[str, Any]:
    if "request" in value:  # the API's item shape
        item = dict(value)
        if item.get("resourceId") is None and item.get("resourceName") is None and resource_id:
            item["resourceId"] = resource_id
        item.setdefault("endpoint", endpoint)
        return item
    if "body" in value and ("custom_id" in value or "url" in value):  # an OpenAI batch line
        url = value.get("url", "/v1/chat/completions")
        if url not in URL_ENDPOINTS:
            raise Invalid(f"{where}.url must be one of {', '.join(URL_ENDPOINTS)}", field=f"{where}.url")
        item = {"request": value.get("body"), "endpoint": URL_ENDPOINTS[url], "customId": value.get("custom_id")}
    else:  # a bare request body
        item = {"request": value, "endpoint": endpoint}
    if not resource_id:
        raise Invalid(f"{where} names no AI resource: choose one in the form, or write the line as an item "
                      "with `resourceName`", field=f"{where}.resourceName")
    item["resourceId"] = resource_id
    return item


def _lines_named(text: str, lines: list[int]) -> str:
    def line(match: re.Match[str]) -> str:
        i = int(match.group(1))
        if i >= len(lines):
            return match.group(0)
        return f"line {lines[i]}, " if match.group(2) else f"line {lines[i]}"

    return _ITEM_REF.sub(line, text)


def named_by_line(exc: DomainError, lines: list[int]) -> DomainError:
    """The same refusal, with `items[i].x` turned into `line N, x` (N: the file's line number)."""
    exc.message = _lines_named(exc.message, lines)
    exc.args = (exc.message,)
    if exc.field:
        exc.field = _lines_named(exc.field, lines)
    return exc


async def create_from_jsonl_as(principal: Principal, workspace_id: str, environment_id: str, data: bytes, *,
                               resource_id: str = "", endpoint: str = "chat",
                               batch_type: str = "async") -> CompletionBatch:
    """Authorized like the API's create (`completion-batch:create`), then the file is read and the batch
    stored through the same use case."""
    scope = await batch_admin.scope_for(principal, workspace_id, environment_id, "completion-batch:create")
    limit = get_settings().vmx_batch_max_body_bytes
    if len(data) > limit:
        raise TooLarge(f"the file is over {limit} bytes (VMX_BATCH_MAX_BODY_BYTES)", field="file")
    parsed = parse_jsonl(data, resource_id=resource_id, endpoint=endpoint)
    try:
        return await batches.create_batch(scope, {"type": batch_type, "items": parsed.items})
    except DomainError as exc:
        raise named_by_line(exc, parsed.lines) from None


async def resource_choices_as(principal: Principal, workspace_id: str,
                              environment_id: str) -> list[tuple[str, str]]:
    """(id, name) of the resources a batch may name, for whoever may create batches here."""
    scope = await batch_admin.scope_for(principal, workspace_id, environment_id, "completion-batch:create")
    index = await batches.resource_index(scope.environment_id)
    return sorted(index.by_id.items(), key=lambda pair: pair[1].lower())


def result_line(item: CompletionBatchItem) -> dict[str, Any]:
    """One line of the results file: who it was, how it ended, and the answer or the error."""
    out: dict[str, Any] = {"customId": item.custom_id, "index": item.seq, "status": item.status,
                           "statusCode": item.status_code}
    if item.result is not None:
        out["response"] = item.result
    if item.error is not None:
        out["error"] = item.error
    return out


async def results_jsonl(batch: CompletionBatch) -> AsyncIterator[bytes]:
    """Every item's `result_line`, in submission order, read a page at a time."""
    offset = 0
    while True:
        items = await batches.list_items(batch, offset=offset, limit=_EXPORT_PAGE)
        if not items:
            return
        yield b"".join(orjson.dumps(result_line(i)) + b"\n" for i in items)
        offset += len(items)
