"""Validation errors in plain words, keyed by form field, for messages shown next to the field.

Pydantic's own texts (`String should have at least 1 character`, `'^\\S+$'`) mean nothing to an
operator; `plain_message` says the same thing the way a form would. `field_errors` turns a
`ValidationError` (or a refusal that names a field) into `{field: message}` with the schema's field
names in snake_case, so a form looks up its own fields.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from vmx_app.models.user import EMAIL_PATTERN
from vmx_app.models.workspace import NAME_PATTERN

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

NAME_RULE = "Use letters, digits and punctuation other than : * ?, with no spaces at either end."


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def plain_message(error: dict[str, Any]) -> str:
    """One pydantic error (`ValidationError.errors()` item) in words."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Required."
    if kind == "string_too_short":
        return f"Use at least {ctx.get('min_length')} characters."
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters."
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == EMAIL_PATTERN:
            return "Enter an email address like name@example.com."
        return NAME_RULE if ctx.get("pattern") == NAME_PATTERN else "Not in the expected format."
    if kind in ("int_parsing", "int_from_float"):
        return "Enter a whole number."
    if kind == "float_parsing":
        return "Enter a number."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Use a value of at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"Use a value of at most {ctx.get('le', ctx.get('lt'))}."
    if kind.startswith(("datetime", "date")) or kind == "timezone_aware":
        return "Enter a date."
    if kind in ("literal_error", "enum"):
        return f"Choose one of: {ctx.get('expected', 'the listed values')}."
    if kind == "too_long":
        return f"Use at most {ctx.get('max_length')} entries."
    if kind == "uuid_parsing":
        return "Pick one from the list."
    message = str(error.get("msg", "Not valid."))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


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
