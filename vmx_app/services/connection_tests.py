"""The last credentials test of a connection, kept on the row so the console states what is known:
"ok" only after a successful test of the current credentials, "failed" with the reason after a failed
one, "not tested" once they change."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

from vmx_app.db import session_scope
from vmx_app.models import AIConnection
from vmx_app.models.base import utcnow
from vmx_app.services.providers import clean_config, secret_fields
from vmx_app.vault import is_masked

MODELS_KEPT = 500  # a provider listing thousands of models: the pickers need the first few hundred


def credentials_changed(provider: str, stored: dict[str, Any], incoming: dict[str, Any] | None,
                        provider_changed: bool) -> bool:
    """Whether `incoming` (a config as the API receives it) differs from the stored credentials or
    endpoint: a new provider, a secret sent in clear (a masked one stands for the stored value), or any
    other field added, changed or removed."""
    if provider_changed:
        return True
    if incoming is None:
        return False
    secrets = secret_fields(provider)
    config = clean_config(incoming)
    if any(k in secrets and not is_masked(v) for k, v in config.items()):
        return True
    plain_now = {k: v for k, v in config.items() if k not in secrets}
    plain_before = {k: v for k, v in stored.items() if k not in secrets and v not in (None, "")}
    return plain_now != plain_before or {k for k in config if k in secrets} != {k for k in stored if k in secrets}


def config_digest(provider: str, config: dict[str, Any]) -> str:
    """Identifies one exact provider + config (secrets included) without keeping the secrets."""
    return hashlib.sha256(orjson.dumps([provider, config], option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_record(result: dict[str, Any]) -> dict[str, Any]:
    """A `check_connection` result as stored on the row."""
    error = result.get("error") or {}
    status = f" (HTTP {error['status']})" if error.get("status") else ""
    return {"ok": bool(result.get("ok")), "message": "" if result.get("ok") else
            f"{error.get('message') or 'failed'}{status}"[:500],
            "testedAt": utcnow().isoformat(), "models": list(result.get("models") or [])[:MODELS_KEPT]}


async def record_test(connection_id: uuid.UUID, result: dict[str, Any]) -> None:
    """Keep a test of the connection's current credentials (its own transaction)."""
    async with session_scope() as session:
        row = await session.get(AIConnection, connection_id)
        if row is not None:
            row.last_test = test_record(result)
            session.add(row)
