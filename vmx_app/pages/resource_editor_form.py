"""The resource editor's form model and its conversion to and from the API shape (DESIGN §5).

No state, no I/O. The form keeps what inputs show (text); `form_to_api` produces the exact body the
API takes and stores, and `api_to_form` reads that shape back, so the JSON view and the tabs edit
the same thing.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from vmx_app.components.budget_editor import BudgetRow, budget_entries, budget_rows
from vmx_app.components.capacity_editor import CapacityRow, capacity_entries, capacity_rows, number_text, parse_number

NUMBER_FIELDS = frozenset({"requestTokens", "messagesCount", "toolsCount", "errorRate"})
BOOLEAN_FIELDS = frozenset({"hasTools", "stream"})
LIST_OPERATORS = frozenset({"in", "notIn"})


@dataclasses.dataclass
class SlotRow:
    provider: str = ""
    connection_id: str = ""
    connection_name: str = ""  # only when a JSON edit named a connection the list does not know
    model: str = ""
    max_retries: str = "0"
    timeout_ms: str = ""
    traffic: str = ""  # routing destinations only


@dataclasses.dataclass
class ClauseRow:
    field: str = "requestTokens"
    metadata_key: str = ""  # for field "metadata": the `metadata.<key>` path
    operator: str = "lessThan"
    value: str = ""
    window: str = ""  # errorRate only: minutes


@dataclasses.dataclass
class ConditionRow:
    description: str = ""
    enabled: bool = True
    advanced: bool = False
    expression: str = ""
    clauses: list[ClauseRow] = dataclasses.field(default_factory=list)
    block: bool = False
    then: SlotRow = dataclasses.field(default_factory=SlotRow)


@dataclasses.dataclass
class ResourceForm:
    name: str = ""
    description: str = ""
    model: SlotRow = dataclasses.field(default_factory=SlotRow)
    secondary_models: list[SlotRow] = dataclasses.field(default_factory=list)
    use_fallback: bool = False
    fallback_models: list[SlotRow] = dataclasses.field(default_factory=list)
    routing_enabled: bool = False
    routing_mode: str = ""  # the optional top-level `mode`, kept as loaded
    routing_present: bool = False  # a stored `routing` object (even empty) is written back as one
    conditions: list[ConditionRow] = dataclasses.field(default_factory=list)
    capacity: list[CapacityRow] = dataclasses.field(default_factory=list)
    enforce_capacity: bool = False
    budgets: list[BudgetRow] = dataclasses.field(default_factory=list)
    default_args: str = "{}"
    allow_overrides: bool = True


class FormError(ValueError):
    """A form value that cannot become the API shape (e.g. defaultArgs that is not JSON)."""


# ---- API shape -> form ---------------------------------------------------------------------------

def slot_row(slot: dict[str, Any] | None, names: dict[str, str] | None = None) -> SlotRow:
    """`names` maps connection name -> id, to show a slot that names its connection by name."""
    slot = slot or {}
    conn_id = str(slot.get("connectionId") or "")
    conn_name = str(slot.get("connectionName") or "")
    if not conn_id and conn_name and names and conn_name in names:
        conn_id, conn_name = names[conn_name], ""
    return SlotRow(provider=str(slot.get("provider") or ""), connection_id=conn_id,
                   connection_name="" if conn_id else conn_name, model=str(slot.get("model") or ""),
                   max_retries=number_text(slot.get("maxRetries", 0)), timeout_ms=number_text(slot.get("timeoutMs")),
                   traffic=number_text(slot.get("traffic")))


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def clause_row(pred: dict[str, Any]) -> ClauseRow:
    field = str(pred.get("field") or "")
    key = ""
    if field.startswith("metadata."):
        field, key = "metadata", field.removeprefix("metadata.")
    return ClauseRow(field=field, metadata_key=key, operator=str(pred.get("operator") or "equals"),
                     value=value_text(pred.get("value")), window=number_text(pred.get("window")))


def condition_row(cond: dict[str, Any], names: dict[str, str] | None = None) -> ConditionRow:
    advanced = cond.get("expression") is not None
    return ConditionRow(description=str(cond.get("description") or ""), enabled=bool(cond.get("enabled", True)),
                        advanced=advanced, expression=str(cond.get("expression") or ""),
                        clauses=[clause_row(p) for p in cond.get("if") or []], block=cond.get("action") == "block",
                        then=slot_row(cond.get("then"), names))


def api_to_form(data: dict[str, Any], names: dict[str, str] | None = None) -> ResourceForm:
    routing = data.get("routing")
    return ResourceForm(
        name=str(data.get("name") or ""),
        description=str(data.get("description") or ""),
        model=slot_row(data.get("model"), names),
        secondary_models=[slot_row(s, names) for s in data.get("secondaryModels") or []],
        use_fallback=bool(data.get("useFallback", False)),
        fallback_models=[slot_row(s, names) for s in data.get("fallbackModels") or []],
        routing_enabled=bool((routing or {}).get("enabled", False)),
        routing_mode=str((routing or {}).get("mode") or ""),
        routing_present=routing is not None,
        conditions=[condition_row(c, names) for c in (routing or {}).get("conditions") or []],
        capacity=capacity_rows(data.get("capacity")),
        enforce_capacity=bool(data.get("enforceCapacity", False)),
        budgets=budget_rows(data.get("budgets")),
        default_args=json.dumps(data.get("defaultArgs") or {}, indent=2),
        allow_overrides=bool(data.get("allowOverrides", True)),
    )


# ---- form -> API shape ---------------------------------------------------------------------------

def slot_api(row: SlotRow, *, routing: bool = False) -> dict[str, Any]:
    slot: dict[str, Any] = {"provider": row.provider, "model": row.model.strip()}
    if row.connection_id:
        slot["connectionId"] = row.connection_id
    elif row.connection_name:
        slot["connectionName"] = row.connection_name
    retries = parse_number(row.max_retries)
    slot["maxRetries"] = 0 if retries is None else retries
    timeout = parse_number(row.timeout_ms)
    if timeout is not None:
        slot["timeoutMs"] = timeout
    if routing:
        traffic = parse_number(row.traffic, integer=False)
        if traffic is not None:
            slot["traffic"] = traffic
    return slot


def _scalar(text: str, field: str) -> Any:
    text = text.strip()
    if field in NUMBER_FIELDS:
        return parse_number(text, integer=False)
    if field in BOOLEAN_FIELDS and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def predicate_value(row: ClauseRow) -> Any:
    if row.operator == "exists":
        return None
    if row.operator in LIST_OPERATORS:
        return [_scalar(part, row.field) for part in row.value.split(",") if part.strip()]
    if row.operator in ("contains", "notContains", "startsWith", "endsWith", "matches"):
        return row.value  # text operators: keep the text exactly (spaces included)
    value = _scalar(row.value, row.field)
    return None if value == "" else value


def predicate_api(row: ClauseRow) -> dict[str, Any]:
    field = f"metadata.{row.metadata_key.strip()}" if row.field == "metadata" else row.field
    pred: dict[str, Any] = {"field": field, "operator": row.operator}
    value = predicate_value(row)
    if value is not None:
        pred["value"] = value
    if row.field == "errorRate":
        window = parse_number(row.window)
        if window is not None:
            pred["window"] = window
    return pred


def condition_api(row: ConditionRow) -> dict[str, Any]:
    cond: dict[str, Any] = {}
    if row.description.strip():
        cond["description"] = row.description.strip()
    cond["enabled"] = row.enabled
    if row.advanced:
        cond["expression"] = row.expression
    else:
        cond["if"] = [predicate_api(c) for c in row.clauses]
    if row.block:
        cond["action"] = "block"
    else:
        cond["then"] = slot_api(row.then, routing=True)
    return cond


def routing_api(form: ResourceForm) -> dict[str, Any] | None:
    if not (form.routing_enabled or form.conditions or form.routing_present):
        return None
    routing: dict[str, Any] = {"enabled": form.routing_enabled}
    if form.routing_mode:
        routing["mode"] = form.routing_mode
    routing["conditions"] = [condition_api(c) for c in form.conditions]
    return routing


def default_args_api(text: str) -> dict[str, Any]:
    text = text.strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"defaultArgs: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(value, dict):
        raise FormError("defaultArgs: must be a JSON object")
    return value


def form_to_api(form: ResourceForm) -> dict[str, Any]:
    """The resource body, in the order the API documents it. Raises FormError for defaultArgs."""
    return {
        "name": form.name.strip(),
        "description": form.description.strip() or None,
        "model": slot_api(form.model),
        "secondaryModels": [slot_api(s) for s in form.secondary_models],
        "useFallback": form.use_fallback,
        "fallbackModels": [slot_api(s) for s in form.fallback_models],
        "routing": routing_api(form),
        "capacity": capacity_entries(form.capacity),
        "enforceCapacity": form.enforce_capacity,
        "defaultArgs": default_args_api(form.default_args),
        "budgets": budget_entries(form.budgets),
        "allowOverrides": form.allow_overrides,
    }


EDITABLE_KEYS: tuple[str, ...] = ("name", "description", "model", "secondaryModels", "useFallback",
                                  "fallbackModels", "routing", "capacity", "enforceCapacity", "defaultArgs",
                                  "budgets", "allowOverrides")


def editable_shape(public: dict[str, Any]) -> dict[str, Any]:
    """The writable part of a GET answer, in body order: what the JSON view shows for a saved resource."""
    return {key: public.get(key) for key in EDITABLE_KEYS}


def clauses_as_cel(clauses: list[ClauseRow]) -> str:
    """A starting point when a condition switches to advanced mode: its clauses as CEL."""
    ops = {"equals": "==", "notEquals": "!=", "greaterThan": ">", "greaterThanOrEqual": ">=", "lessThan": "<",
           "lessThanOrEqual": "<="}
    parts: list[str] = []
    for clause in clauses:
        pred = predicate_api(clause)
        field, op, value = pred["field"], pred["operator"], pred.get("value")
        if field == "errorRate":
            field = f"errorRate({pred.get('window', 10)}, 'any')"
        if op in ops and value is not None:
            parts.append(f"{field} {ops[op]} {json.dumps(value)}")
        elif op in ("contains", "startsWith", "endsWith", "matches") and isinstance(value, str):
            parts.append(f"{field}.{op}({json.dumps(value)})")
    return " && ".join(parts)
