"""Request merging and the `vmx` envelope (DESIGN §2 step 3, §4).

Precedence: resource defaultArgs < request body < vmx.providerArgs, deep for objects,
replace for everything else (lists are replaced, never concatenated).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import Field, ValidationError, field_validator

from vmx_app.gateway.config import CamelModel, ResourceConfig

R = TypeVar("R", bound=ResourceConfig)

# Capacity is the operator's guard rail: a caller must not lift it for its own request.
NOT_OVERRIDABLE = frozenset({"capacity", "enforceCapacity"})
_SLOT_PATHS = ("model",)  # slots that deep-merge (list-held slots are replaced whole)

StrictInt = Annotated[int, Field(strict=True)]
# `vmx.metadata` lands on every audit row and in routing: a small flat object (DESIGN §11).
METADATA_MAX_KEYS = 32
METADATA_MAX_BYTES = 4096


class EnvelopeError(ValueError):
    """A bad `vmx` envelope or override; `field` is the offending path (the API answers 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class VmxEnvelope(CamelModel):
    correlation_id: str | None = Field(default=None, min_length=1, max_length=255)
    metadata: dict[str, Any] = Field(default_factory=dict)
    timeout_ms: Annotated[StrictInt | None, Field(ge=1, le=600_000)] = None
    secondary_model_index: Annotated[StrictInt | None, Field(ge=0)] = None
    provider_args: dict[str, Any] = Field(default_factory=dict)
    resource_config_overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata", "provider_args", "resource_config_overrides", mode="before")
    @classmethod
    def _null_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v

    @field_validator("metadata")
    @classmethod
    def _flat_metadata(cls, v: dict[str, Any]) -> dict[str, Any]:
        if len(v) > METADATA_MAX_KEYS:
            raise ValueError(f"at most {METADATA_MAX_KEYS} keys (got {len(v)})")
        for key, value in v.items():
            if not isinstance(value, str | int | float | bool):
                raise ValueError(f"{key!r}: values are strings, numbers or booleans (a flat object)")
        size = len(orjson.dumps(v))
        if size > METADATA_MAX_BYTES:
            raise ValueError(f"at most {METADATA_MAX_BYTES} bytes as JSON (got {size})")
        return v


def _clone(value: Any) -> Any:
    """Copy of JSON containers, so callers may mutate a merged body without touching cached config."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A new dict: objects merge recursively, any other value in `override` replaces the base's.

    Values taken from `base` are copied; values taken from `override` are shared (callers pass
    freshly parsed request JSON there).
    """
    out: dict[str, Any] = {k: _clone(v) for k, v in base.items() if k not in override}
    for key, value in override.items():
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def merge_request(default_args: dict[str, Any] | None, body: dict[str, Any],
                  provider_args: dict[str, Any] | None) -> dict[str, Any]:
    """defaultArgs < body < providerArgs."""
    merged = deep_merge(default_args or {}, body)
    return deep_merge(merged, provider_args) if provider_args else merged


def _loc_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _first_error(prefix: str, exc: ValidationError) -> EnvelopeError:
    err = exc.errors(include_url=False)[0]
    return EnvelopeError(_loc_path(prefix, tuple(err.get("loc", ()))), err.get("msg", "invalid value"))


def split_vmx_envelope(body: dict[str, Any]) -> tuple[dict[str, Any], VmxEnvelope]:
    """(body without `vmx`, the validated envelope). Raises EnvelopeError naming the bad field."""
    if "vmx" not in body:
        return body, VmxEnvelope()
    raw = body["vmx"]
    rest = {k: v for k, v in body.items() if k != "vmx"}
    if raw is None:
        return rest, VmxEnvelope()
    if not isinstance(raw, dict):
        raise EnvelopeError("vmx", "must be an object")
    try:
        return rest, VmxEnvelope.model_validate(raw)
    except ValidationError as exc:
        raise _first_error("vmx", exc) from None


def _slot_override(base_slot: Any, override_slot: Any) -> Any:
    # A slot names its connection by id or by name, and the id wins when both are present, so an
    # override naming a connection must drop the stored reference of the other kind.
    if not (isinstance(base_slot, dict) and isinstance(override_slot, dict)):
        return base_slot
    base_slot = dict(base_slot)
    if "connectionName" in override_slot and "connectionId" not in override_slot:
        base_slot.pop("connectionId", None)
    if "connectionId" in override_slot and "connectionName" not in override_slot:
        base_slot.pop("connectionName", None)
    return base_slot


def apply_overrides(resource: R, overrides: dict[str, Any],
                    prefix: str = "vmx.resourceConfigOverrides") -> R:
    """The resource with `overrides` deep-merged onto its camelCase form, re-validated (same class)."""
    if not overrides:
        return resource
    allowed = {f.alias or name for name, f in ResourceConfig.model_fields.items()} - NOT_OVERRIDABLE
    for key in overrides:
        if key in NOT_OVERRIDABLE:
            raise EnvelopeError(f"{prefix}.{key}", "cannot be overridden per request")
        if key not in allowed:
            raise EnvelopeError(f"{prefix}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")
    base = resource.model_dump(by_alias=True, exclude_none=True, mode="json")
    for key in _SLOT_PATHS:
        if key in overrides and key in base:
            base[key] = _slot_override(base[key], overrides[key])
    try:
        return type(resource).model_validate(deep_merge(base, overrides))
    except ValidationError as exc:
        raise _first_error(prefix, exc) from None
