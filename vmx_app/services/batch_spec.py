"""A batch submission checked up front (issue 14): every item's resource, endpoint and request body,
the batch's own capacity (the gate enforces it per batch) and its callback. Any fault is a 400 naming
the field (`items[3].request.messages`), so a batch is accepted whole or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from vmx_app.errors import Forbidden, Invalid
from vmx_app.gateway.config import CapacityEntry
from vmx_app.gateway.dispatch import check_body
from vmx_app.gateway.errors import GatewayError
from vmx_app.gateway.tokens import estimate_tokens

BATCH_TYPES = ("sync", "async", "callback")
ENDPOINTS = ("chat", "responses", "anthropic")
CALLBACK_EVENTS = ("batch_update", "item_update", "all")
_CAPACITY = TypeAdapter(list[CapacityEntry])


@dataclass(frozen=True, slots=True)
class ItemSpec:
    seq: int
    resource_id: str
    resource_name: str
    endpoint: str
    custom_id: str | None
    request: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallbackSpec:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: str = "all"

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "headers": self.headers, "events": self.events}


@dataclass(frozen=True, slots=True)
class BatchSpec:
    type: str
    items: list[ItemSpec]
    capacity: list[dict[str, Any]]
    callback: CallbackSpec | None


@dataclass(frozen=True, slots=True)
class ResourceIndex:
    """The environment's resources by id and by name (one read per submission)."""

    by_id: dict[str, str]  # id -> name
    by_name: dict[str, str]  # name -> id


def parse_batch(body: Any, resources: ResourceIndex, *, max_items: int,
                allowed_resources: list[str] | None = None) -> BatchSpec:
    """`allowed_resources`: an API key's resource list (empty or None: every resource)."""
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", field="body")
    kind = body.get("type", "async")
    if kind not in BATCH_TYPES:
        raise Invalid(f"`type` must be one of {', '.join(BATCH_TYPES)}", field="type")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise Invalid("`items` must be a non-empty array", field="items")
    if len(items) > max_items:
        raise Invalid(f"a batch holds at most {max_items} items (got {len(items)})", field="items")
    specs = [_item(i, raw, resources, allowed_resources) for i, raw in enumerate(items)]
    callback = _callback(body.get("callback"), required=kind == "callback")
    capacity = _capacity(body.get("capacity"))
    _fits(specs, capacity)
    return BatchSpec(kind, specs, capacity, callback)


def _fits(items: list[ItemSpec], capacity: list[dict[str, Any]]) -> None:
    """An item bigger than the batch's own token limit could never run: refused up front."""
    caps = [(e["tokens"], e["period"]) for e in capacity if e.get("enabled", True) and e.get("tokens")]
    if not caps:
        return
    tokens, period = min(caps)
    for item in items:
        need = estimate_tokens(item.request)
        if need > tokens:
            where = f"items[{item.seq}].request"
            raise Invalid(f"{where}: needs ~{need} tokens, more than the batch's capacity allows per {period} "
                          f"({tokens})", field=where)


def _item(i: int, raw: Any, resources: ResourceIndex, allowed: list[str] | None) -> ItemSpec:
    where = f"items[{i}]"
    if not isinstance(raw, dict):
        raise Invalid(f"{where} must be an object", field=where)
    resource_id, name = _resource(where, raw, resources)
    if allowed and resource_id not in allowed:
        raise Forbidden(f"{where}: the API key may not use AI resource {name!r}",
                        code="api_key_resource_not_authorized", field=f"{where}.resourceId")
    endpoint = raw.get("endpoint", "chat")
    if endpoint not in ENDPOINTS:
        raise Invalid(f"{where}.endpoint must be one of {', '.join(ENDPOINTS)}", field=f"{where}.endpoint")
    custom_id = raw.get("customId")
    if custom_id is not None and (not isinstance(custom_id, str) or len(custom_id) > 200):
        raise Invalid(f"{where}.customId must be a string of at most 200 characters", field=f"{where}.customId")
    request = raw.get("request")
    if not isinstance(request, dict):
        raise Invalid(f"{where}.request must be an object", field=f"{where}.request")
    if request.get("stream") is True:
        raise Invalid(f"{where}.request.stream: batch items are answered whole, not streamed",
                      field=f"{where}.request.stream")
    request = {**request, "model": name}  # the engine resolves the resource by name
    try:
        check_body(endpoint, request)
    except GatewayError as exc:
        param = f"{where}.request.{exc.param}" if exc.param else f"{where}.request"
        raise Invalid(f"{where}.request: {exc.message}", field=param) from None
    return ItemSpec(i, resource_id, name, endpoint, custom_id, request)


def _resource(where: str, raw: dict[str, Any], resources: ResourceIndex) -> tuple[str, str]:
    rid, name = raw.get("resourceId"), raw.get("resourceName")
    if rid is not None:
        found = resources.by_id.get(str(rid))
        if found is None:
            raise Invalid(f"{where}.resourceId: unknown AI resource {rid!r} in this environment",
                          field=f"{where}.resourceId")
        return str(rid), found
    if name is not None:
        found_id = resources.by_name.get(str(name))
        if found_id is None:
            raise Invalid(f"{where}.resourceName: unknown AI resource {name!r} in this environment",
                          field=f"{where}.resourceName")
        return found_id, str(name)
    raise Invalid(f"{where}: `resourceId` or `resourceName` is required", field=f"{where}.resourceId")


def _capacity(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    try:
        entries = _CAPACITY.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise Invalid(f"capacity{loc}: {first['msg']}", field=f"capacity{loc}") from None
    for i, e in enumerate(entries):
        if e.dimension is not None:  # batch items have no client IP to count by
            raise Invalid(f"capacity[{i}].dimension: a batch's limits count the whole batch",
                          field=f"capacity[{i}].dimension")
    # Enforced by the gate on every item, per batch (level `batch`), on top of every other level's limits.
    return [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in entries]


def _callback(raw: Any, *, required: bool) -> CallbackSpec | None:
    if raw is None:
        if required:
            raise Invalid("a callback batch needs `callback.url`", field="callback.url")
        return None
    if not isinstance(raw, dict):
        raise Invalid("`callback` must be an object", field="callback")
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise Invalid("`callback.url` must be an http(s) URL", field="callback.url")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in headers.items()):
        raise Invalid("`callback.headers` must map names to strings", field="callback.headers")
    events = raw.get("events", "all")
    if events not in CALLBACK_EVENTS:
        raise Invalid(f"`callback.events` must be one of {', '.join(CALLBACK_EVENTS)}", field="callback.events")
    return CallbackSpec(url, dict(headers), events)
