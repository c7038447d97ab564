"""Readiness: a registry of dependency checks, each answering one or more named entries
(`{"ok": bool, ...details}`) for /readyz's JSON body. Other parts add theirs with `register_check`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from vmx_app.db import get_engine
from vmx_app.migrations import head_revision
from vmx_app.redis_client import get_redis
from vmx_app.settings import get_settings

Entries = dict[str, dict[str, Any]]
Check = Callable[[], Awaitable[Entries]]
CHECK_TIMEOUT_S = 2.0
_CHECKS: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    """`check` answers entries such as {"audit_spool": {"ok": True, "bytes": 0}}; a check that raises or
    takes longer than CHECK_TIMEOUT_S reports {"ok": False} under `name`."""
    _CHECKS[name] = check


async def _database() -> Entries:
    try:
        async with get_engine().connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:  # any driver error means not ready
        return {"database": {"ok": False, "error": type(exc).__name__}, "migrations": {"ok": False}}
    head = head_revision()
    return {"database": {"ok": True}, "migrations": {"ok": current == head, "current": current, "head": head}}


async def _redis() -> Entries:
    client = get_redis()
    if client is None:
        return {"redis": {"ok": True, "mode": "in-process"}}
    await client.ping()
    return {"redis": {"ok": True, "mode": get_settings().redis_mode}}


async def _audit() -> Entries:
    from vmx_app.audit.writer import get_audit_writer

    writer = get_audit_writer()
    return {"audit": {"ok": writer.running, "queued": writer.queue_depth, "dropped": writer.dropped}}


async def _run(name: str, check: Check) -> Entries:
    try:
        return await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - a failing check is a "not ready", never a 500
        return {name: {"ok": False, "error": type(exc).__name__}}


async def _audit_spool() -> Entries:
    """Informational (never makes the process unready): audit rows waiting on disk for the database."""
    from vmx_app.audit.writer import get_audit_writer

    return {"auditSpool": {"ok": True, "bytes": get_audit_writer().spool_bytes}}


async def readiness() -> Entries:
    out: Entries = {}
    for entries in await asyncio.gather(*(_run(name, check) for name, check in list(_CHECKS.items()))):
        out.update(entries)
    return out


register_check("database", _database)
register_check("redis", _redis)
register_check("audit", _audit)
register_check("auditSpool", _audit_spool)
