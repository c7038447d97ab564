"""Readiness checks: database reachable, migrations at head, Redis reachable when configured."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from vmx_app.db import get_engine
from vmx_app.migrations import head_revision
from vmx_app.redis_client import get_redis
from vmx_app.settings import get_settings


async def _database() -> dict[str, Any]:
    try:
        async with get_engine().connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:  # any driver error means not ready
        return {"ok": False, "error": type(exc).__name__}
    head = head_revision()
    migrations = {"ok": current == head, "current": current, "head": head}
    return {"ok": True, "migrations": migrations}


async def _redis() -> dict[str, Any]:
    client = get_redis()
    if client is None:
        return {"ok": True, "mode": "in-process"}
    try:
        await asyncio.wait_for(client.ping(), timeout=2)
        return {"ok": True, "mode": get_settings().redis_mode}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _audit_spool() -> dict[str, Any]:
    """Informational (never makes the process unready): audit rows waiting on disk for the database."""
    from vmx_app.audit.writer import get_audit_writer

    return {"ok": True, "bytes": get_audit_writer().spool_bytes}


async def readiness() -> dict[str, dict[str, Any]]:
    database, redis = await asyncio.gather(_database(), _redis())
    migrations = database.pop("migrations", {"ok": False})
    return {"database": database, "migrations": migrations, "redis": redis, "auditSpool": _audit_spool()}
