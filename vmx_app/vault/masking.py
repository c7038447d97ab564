"""Masking secrets in API responses and keeping stored secrets when a mask is sent back."""

from __future__ import annotations

import copy
from typing import Any

MASK = "********"
# The original treats any value starting with four stars as "keep the stored secret".
_MASK_PREFIX = "****"


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_MASK_PREFIX)


def mask_secrets(config: dict[str, Any], secret_fields: set[str]) -> dict[str, Any]:
    """Deep copy of ``config`` with every non-empty secret field (at any depth) replaced by MASK."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in secret_fields and value not in (None, ""):
            out[key] = MASK
        elif isinstance(value, dict):
            out[key] = mask_secrets(value, secret_fields)
        else:
            out[key] = copy.deepcopy(value)
    return out


def restore_masked(
    incoming: dict[str, Any], stored: dict[str, Any] | None, secret_fields: set[str]
) -> dict[str, Any]:
    """Copy of ``incoming`` where masked secret fields take the stored value (or are dropped if none)."""
    stored = stored or {}
    out: dict[str, Any] = {}
    for key, value in incoming.items():
        if key in secret_fields and is_masked(value):
            if stored.get(key) not in (None, ""):
                out[key] = copy.deepcopy(stored[key])
        elif isinstance(value, dict):
            previous = stored.get(key)
            out[key] = restore_masked(value, previous if isinstance(previous, dict) else None, secret_fields)
        else:
            out[key] = copy.deepcopy(value)
    return out
