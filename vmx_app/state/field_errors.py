"""Validation errors in plain words, keyed by form field, for messages shown next to the field.

Pydantic's own texts (`String should have at least 1 character`, `'^\\S+$'`) mean nothing to an
operator; `plain_message` says the same thing the way a form would. `field_errors` turns a
`ValidationError` (or a refusal that names a field) into `{field: message}` with the schema's field
names in snake_case, so a form looks up its own fields.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from vmx_app.errors import DomainError
from vmx_app.models.ai_resource import RESOURCE_NAME_PATTERN
from vmx_app.models.role import ROLE_NAME_PATTERN
from vmx_app.models.user import EMAIL_PATTERN
from vmx_app.models.workspace import NAME_PATTERN

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

NAME_RULE = "Use letters, digits and punctuation other than : * ?, with no spaces at either end."
# Each schema pattern a form field can meet, as the rule it stands for.
PATTERN_RULES = {
    EMAIL_PATTERN: "Enter an email address like name@example.com.",
    NAME_PATTERN: NAME_RULE,
    RESOURCE_NAME_PATTERN: "Use no spaces and none of : * ? (clients send this name as the model).",
    ROLE_NAME_PATTERN: "Start with a letter or a digit; then use only letters, digits, _ . and -.",
}


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


# Fields whose name does not read as words on its own.
LABELS = {"amount_usd": "Amount", "audit_retention_days": "Retention"}


def _label(loc: Any) -> str:
    """`("expires_at",)` → "Expires at": the field an empty-submit message names."""
    last = snake(next((p for p in reversed(loc or ()) if isinstance(p, str)), ""))
    return LABELS.get(last) or last.replace("_", " ").capitalize() or "This field"


def _number(value: Any) -> str:
    """A bound as people write it: 0 and 100, not 0.0 and 100.0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def plain_message(error: dict[str, Any]) -> str:
    """One pydantic error (`ValidationError.errors()` item) in words."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1) or (
            isinstance(given, str) and not given.strip()):  # an empty field: say what is missing, not a rule
        return f"{_label(error.get('loc'))} is required."
    if kind == "string_too_short":
        return f"Use at least {ctx.get('min_length')} characters."
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters."
    if kind == "string_pattern_mismatch":
        return PATTERN_RULES.get(str(ctx.get("pattern")), "Not in the expected format.")
    if kind in ("int_parsing", "int_from_float"):
        return "Enter a whole number."
    if kind == "float_parsing":
        return "Enter a number."
    if kind == "greater_than_equal":
        return f"Use a value of at least {_number(ctx.get('ge'))}."
    if kind == "greater_than":
        return f"Use a value above {_number(ctx.get('gt'))}."
    if kind == "less_than_equal":
        return f"Use a value of at most {_number(ctx.get('le'))}."
    if kind == "less_than":
        return f"Use a value below {_number(ctx.get('lt'))}."
    if kind.startswith(("datetime", "date")) or kind == "timezone_aware":
        return "Enter a date."
    if kind in ("literal_error", "enum"):
        return f"Choose one of: {ctx.get('expected', 'the listed values')}."
    if kind == "too_long":
        return f"Use at most {ctx.get('max_length')} entries."
    if kind == "uuid_parsing":
        return "Pick one from the list."
    message = str(error.get("msg", "Not valid.")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message if message.endswith((".", "?", "!")) else message + "."


def field_errors(exc: ValidationError) -> dict[str, str]:
    """`{field: message}`, the first message per top-level field (snake_case)."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ("",)
        out.setdefault(snake(str(loc[0])), plain_message(dict(err)))
    return out


def refusal_field(details: Any) -> dict[str, str]:
    """`[{"field": "expiresAt", "message": "must be in the future"}]` (a service's refusal) as
    `{"expires_at": "Must be in the future."}`."""
    out: dict[str, str] = {}
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and item.get("field"):
            text = str(item.get("message", "")).strip() or "Not valid."
            field = snake(str(item["field"]).split(".")[0].split("[")[0])
            out.setdefault(field, text[0].upper() + text[1:] + ("" if text.endswith(".") else "."))
    return out


def field_problem(schema: type[BaseModel], name: str, value: Any) -> str:
    """What is wrong with `value` as the field `name` of `schema`, in plain words ("" when nothing).

    The check is the schema's own (constraints, patterns, field validators), the one the service runs on
    the whole body, so a field the console accepts is one the API accepts. An empty text stands for
    "not given", as the forms send it: required fields say so, optional ones are fine."""
    info = schema.model_fields[name]
    if isinstance(value, str) and not value.strip():
        return f"{_label((name,))} is required." if info.is_required() else ""
    try:
        schema.__pydantic_validator__.validate_assignment(schema.model_construct(), name, value)
    except ValidationError as exc:
        return plain_message(dict(exc.errors()[0]))
    return ""


def split_refusal(exc: Exception, fields: frozenset[str] | set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(errors about `fields`, errors about other fields) of a refusal, in plain words, keyed snake_case.
    A refusal that names no field gives two empty dicts: its message belongs in the form's banner."""
    if isinstance(exc, ValidationError):
        found = field_errors(exc)
    elif isinstance(exc, DomainError):
        found = refusal_field(exc.details)
        if exc.field:
            found.setdefault(snake(exc.field.split(".")[0].split("[")[0]), exc.message)
    else:
        found = {}
    mine = {k: v for k, v in found.items() if k in fields}
    return mine, {k: v for k, v in found.items() if k not in fields}


def banner_text(shown: dict[str, str], others: dict[str, str], whole: str) -> str:
    """A form's banner under a refusal split by `split_refusal`: `whole` (the refusal's full text) when no
    error sits next to a field, else only the other fields' errors (never the same words twice)."""
    if not shown:
        return whole
    return "; ".join(f"{_label((k,))}: {v}" for k, v in others.items())
