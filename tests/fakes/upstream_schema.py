"""A deterministic JSON instance of a JSON schema: what the fake answers when a request asks for
structured output or forces a tool call, so clients' `.parse()` and `with_structured_output` get a
value that validates."""

from __future__ import annotations

from typing import Any


def instance(schema: Any, defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    if not isinstance(schema, dict) or depth > 8:
        return None
    defs = {**(defs or {}), **(schema.get("$defs") or schema.get("definitions") or {})}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return instance(defs.get(ref.rsplit("/", 1)[-1]) or {}, defs, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key) or [] if not (isinstance(s, dict) and s.get("type") == "null")]
        if options:
            return instance(options[0], defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {name: instance(sub, defs, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [instance(schema.get("items") or {"type": "string"}, defs, depth + 1)]
    if kind == "string":
        return "Paris"
    if kind == "integer":
        return 21
    if kind == "number":
        return 21.5
    if kind == "boolean":
        return True
    return None
