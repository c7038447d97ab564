"""Dynamic routing (DESIGN §5): which model slot a request goes to, and why.

Pure: the caller supplies the request facts (RoutingInput), an `error_rate(window, status)`
callback bound to the primary model, and the random source for traffic splits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vmx_app.gateway import routing_cel, safe_regex
from vmx_app.gateway.config import ModelSlot, RoutingConfig, RoutingPredicate
from vmx_app.gateway.tokens import estimate_tokens
from vmx_app.gateway.types import Endpoint, ErrorRateFn

DEFAULT_ERROR_RATE_WINDOW = 10

# RoutingField name -> RoutingInput attribute.
FIELD_ATTRS: dict[str, str] = {
    "requestTokens": "request_tokens", "messagesCount": "messages_count", "toolsCount": "tools_count",
    "hasTools": "has_tools", "stream": "stream", "firstMessage": "first_message",
    "lastMessage": "last_message", "allMessagesContent": "all_messages_content", "apiKeyName": "api_key_name",
}
_ORDERING = frozenset({"greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual"})
_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


@dataclass(frozen=True)
class RoutingInput:
    request_tokens: int = 0
    messages_count: int = 0
    tools_count: int = 0
    has_tools: bool = False
    stream: bool = False
    first_message: str = ""
    last_message: str = ""
    all_messages_content: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    api_key_name: str | None = None

    def variables(self) -> dict[str, Any]:
        """camelCase name -> value, the names users write in conditions and CEL expressions."""
        out = {name: getattr(self, attr) for name, attr in FIELD_ATTRS.items()}
        out["metadata"] = self.metadata
        return out


def _text_of(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a multi-part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
                        and p.get("type", "text") in _TEXT_PART_TYPES)
    return ""


def _messages(body: Mapping[str, Any], endpoint: Endpoint) -> list[Any]:
    if endpoint == "responses":
        inp = body.get("input")
        if isinstance(inp, str):
            return [{"role": "user", "content": inp}]
        return inp if isinstance(inp, list) else []
    msgs = body.get("messages")
    return msgs if isinstance(msgs, list) else []


def _message_text(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    if "content" in message:
        return _text_of(message["content"])
    # responses function_call / function_call_output items carry no `content`
    for key in ("output", "arguments"):
        if isinstance(message.get(key), str):
            return message[key]
    return ""


def routing_input_from_body(
    body: Mapping[str, Any], endpoint: Endpoint, metadata: Mapping[str, Any] | None = None,
    api_key_name: str | None = None, *, request_tokens: int | None = None,
) -> RoutingInput:
    """Facts about a merged request body (vmx envelope already removed).

    `request_tokens` lets the caller pass the estimate it already made for the capacity gate.
    """
    messages = _messages(body, endpoint)
    bound = safe_regex.bound_text  # conditions read at most MAX_CONDITION_TEXT characters of each
    texts = [_message_text(m) for m in messages]
    tools = body.get("tools")
    tools_count = len(tools) if isinstance(tools, list) else 0
    if not tools_count and isinstance(body.get("functions"), list):  # legacy chat `functions`
        tools_count = len(body["functions"])
    return RoutingInput(
        request_tokens=estimate_tokens(body) if request_tokens is None else request_tokens,
        messages_count=len(messages),
        tools_count=tools_count,
        has_tools=tools_count > 0,
        stream=bool(body.get("stream")),
        first_message=bound(texts[0]) if texts else "",
        last_message=bound(texts[-1]) if texts else "",
        all_messages_content=bound(" ".join(t for t in texts if t)),
        metadata=dict(metadata or {}),
        api_key_name=api_key_name,
    )


@dataclass(frozen=True)
class RoutingDecision:
    action: Literal["route", "block", "none"]
    condition_index: int | None = None
    description: str | None = None
    slot: ModelSlot | None = None
    reason: str = ""
    trace: tuple[str, ...] = ()

    @property
    def block(self) -> bool:
        return self.action == "block"

    @property
    def label(self) -> str | None:
        """Where the routed slot lives in the resource, e.g. `routing.conditions[2].then`."""
        return None if self.condition_index is None else f"routing.conditions[{self.condition_index}].then"


# ---- operators -------------------------------------------------------------------------------------

def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _boolean(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    return None


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        ba, bb = _boolean(a), _boolean(b)
        return ba is not None and ba == bb
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if a is None or b is None or isinstance(a, dict | list) or isinstance(b, dict | list):
        return a == b
    return str(a) == str(b)


def _order(op: str, a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        x: Any = na
        y: Any = nb
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b
    else:
        return False
    if op == "greaterThan":
        return x > y
    if op == "greaterThanOrEqual":
        return x >= y
    if op == "lessThan":
        return x < y
    return x <= y


def _as_text(v: Any) -> str | None:
    if v is None or isinstance(v, dict | list):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _list_value(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v.strip() if isinstance(v, str) else v for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return [] if value is None else [value]


def _contains(actual: Any, value: Any) -> bool:
    if isinstance(actual, list):
        return any(_equals(item, value) for item in actual)
    text, needle = _as_text(actual), _as_text(value)
    return text is not None and needle is not None and needle in text


def apply_operator(op: str, actual: Any, value: Any) -> bool:
    """One predicate test. Unknown or mismatched types are a plain `False`, never an exception."""
    if op == "exists":
        return actual is not None and actual != "" and actual != [] and actual != {}
    if op == "equals":
        return _equals(actual, value)
    if op == "notEquals":
        return not _equals(actual, value)
    if op in _ORDERING:
        return _order(op, actual, value)
    if op == "contains":
        return _contains(actual, value)
    if op == "notContains":
        return not _contains(actual, value)
    if op in ("startsWith", "endsWith"):
        text, affix = _as_text(actual), _as_text(value)
        if text is None or affix is None:
            return False
        return text.startswith(affix) if op == "startsWith" else text.endswith(affix)
    if op == "matches":
        text = _as_text(actual)
        return text is not None and isinstance(value, str) and safe_regex.search(value, text)
    if op in ("in", "notIn"):
        found = any(_equals(actual, v) for v in _list_value(value))
        return found if op == "in" else not found
    return False


# ---- evaluation -------------------------------------------------------------------------------------

def _metadata_value(metadata: Mapping[str, Any], path: str) -> Any:
    if path in metadata:  # a key that itself contains dots wins over nesting
        return metadata[path]
    current: Any = metadata
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def field_value(pred: RoutingPredicate, inp: RoutingInput, error_rate: ErrorRateFn) -> Any:
    if pred.field == "errorRate":
        return error_rate(pred.window or DEFAULT_ERROR_RATE_WINDOW, "any")
    if pred.field.startswith("metadata."):
        return _metadata_value(inp.metadata, pred.field[len("metadata."):])
    return getattr(inp, FIELD_ATTRS[pred.field])


def _show(v: Any, limit: int = 60) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _predicates_hold(preds: list[RoutingPredicate], inp: RoutingInput, error_rate: ErrorRateFn,
                     notes: list[str]) -> bool:
    for pred in preds:  # all must hold; stop at the first that does not
        try:
            actual = field_value(pred, inp, error_rate)
        except Exception as exc:  # e.g. the error-rate store is down: the predicate fails, routing goes on
            notes.append(f"{pred.field}: unavailable ({type(exc).__name__}): false")
            return False
        ok = apply_operator(pred.operator, actual, pred.value)
        window = f"({pred.window or DEFAULT_ERROR_RATE_WINDOW}m)" if pred.field == "errorRate" else ""
        shown = pred.field + window
        rhs = "" if pred.operator == "exists" else f" {_show(pred.value)}"
        notes.append(f"{shown}={_show(actual)} {pred.operator}{rhs}: {str(ok).lower()}")
        if not ok:
            return False
    return True


def evaluate_routing(
    routing: RoutingConfig | None, inp: RoutingInput, error_rate: ErrorRateFn,
    rand: Callable[[], float] = random.random,
) -> RoutingDecision:
    """First enabled condition that holds (and wins its traffic draw) decides; else no routing."""
    if routing is None or not routing.enabled or not routing.conditions:
        return RoutingDecision(action="none", reason="routing disabled")
    trace: list[str] = []
    for i, cond in enumerate(routing.conditions):
        name = f"conditions[{i}]" + (f" ({cond.description})" if cond.description else "")
        if not cond.enabled:
            trace.append(f"{name}: disabled, skipped")
            continue
        notes: list[str] = []
        if cond.expression is not None:
            matched, detail = routing_cel.evaluate_expression(cond.expression, inp.variables(), error_rate)
            notes.append(detail)
        else:
            matched = _predicates_hold(cond.if_ or [], inp, error_rate, notes)
        if not matched:
            trace.append(f"{name}: no match [{'; '.join(notes)}]")
            continue
        traffic = cond.then.traffic if cond.then is not None else None
        if traffic is not None and traffic < 100:
            draw = rand()
            if draw >= traffic / 100:
                trace.append(f"{name}: matched [{'; '.join(notes)}] but lost the traffic draw "
                             f"({draw:.3f} >= {traffic / 100:.3f}), next condition")
                continue
            notes.append(f"traffic {traffic:g}% draw {draw:.3f}")
        if cond.action == "block":
            trace.append(f"{name}: matched [{'; '.join(notes)}], request blocked")
            return RoutingDecision(action="block", condition_index=i, description=cond.description,
                                   reason="; ".join(trace), trace=tuple(trace))
        assert cond.then is not None  # the config validator guarantees `then` unless blocking
        slot = ModelSlot.model_validate(cond.then.model_dump(exclude={"traffic"}))
        trace.append(f"{name}: matched [{'; '.join(notes)}], routed to {slot.provider}/{slot.model}")
        return RoutingDecision(action="route", condition_index=i, description=cond.description, slot=slot,
                               reason="; ".join(trace), trace=tuple(trace))
    trace.append("no condition matched, primary model used")
    return RoutingDecision(action="none", reason="; ".join(trace), trace=tuple(trace))


# ---- config-time validation ---------------------------------------------------------------------------

def validate_routing(routing: RoutingConfig | None, prefix: str = "routing") -> list[str]:
    """Errors the config's types cannot catch (regexes, CEL, missing values), each naming its path."""
    if routing is None:
        return []
    errors: list[str] = []
    for i, cond in enumerate(routing.conditions):
        path = f"{prefix}.conditions[{i}]"
        if cond.expression is not None:
            err = routing_cel.check_expression(cond.expression)
            if err:
                errors.append(f"{path}.expression: {err}")
        for j, pred in enumerate(cond.if_ or []):
            errors.extend(_predicate_errors(pred, f"{path}.if[{j}]"))
    return errors


def _predicate_errors(pred: RoutingPredicate, path: str) -> list[str]:
    op, value = pred.operator, pred.value
    if op == "exists":
        return []
    if value is None or value == "":
        return [f"{path}.value: required for operator {op}"]
    if op == "matches":
        if not isinstance(value, str):
            return [f"{path}.value: a regular expression string is required for operator matches"]
        err = safe_regex.pattern_error(value)
        if err is not None:
            return [f"{path}.value: regular expression {value!r} is not supported (RE2 syntax, no "
                    f"backreferences or lookaround): {err}"]
    if op in _ORDERING and isinstance(value, dict | list | bool):
        return [f"{path}.value: operator {op} needs a number or a string"]
    if op in ("in", "notIn") and isinstance(value, dict):
        return [f"{path}.value: operator {op} needs a list or a comma-separated string"]
    if pred.field == "errorRate" and _number(value) is None:
        return [f"{path}.value: errorRate is a percentage, {value!r} is not a number"]
    return []
