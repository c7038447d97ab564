"""Retention of the audit trail: each environment keeps `audit_retention_days` of rows; older ones are
deleted in small batches (short transactions, no long lock on a table the writer appends to)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from vmx_app.db import get_engine, session_scope
from vmx_app.models import Environment, RequestAudit
from vmx_app.services import audit_partitions

log = logging.getLogger("vmx.audit")
C = RequestAudit.__table__.c  # type: ignore[attr-defined]
BATCH_ROWS = 5_000


@dataclass
class Purged:
    rows: int = 0
    batches: int = 0


async def purge_environment(environment_id: object, cutoff: datetime, batch_rows: int = BATCH_ROWS) -> Purged:
    """Rows older than `cutoff` rounded down to the UTC hour (at most an hour more is kept), then the
    usage rollup's hours before it (services/usage_rollup.py): both always hold the same rows."""
    cutoff = cutoff.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    done = Purged()
    while True:
        expired = (sa.select(C.id).where(C.environment_id == environment_id, C.created_at < cutoff)
                   .limit(batch_rows).scalar_subquery())
        async with get_engine().begin() as conn:  # one short transaction per batch
            result = await conn.execute(sa.delete(RequestAudit.__table__).where(C.id.in_(expired)))  # type: ignore[arg-type]
        deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if deleted:
            done.rows += deleted
            done.batches += 1
        if deleted < batch_rows:
            await audit_partitions.drop_rollup_before(cutoff, environment_id)
            return done


async def purge_expired(now: datetime | None = None, batch_rows: int = BATCH_ROWS) -> dict[str, Purged]:
    """Per environment, the rows and batches deleted this round."""
    now = now or datetime.now(UTC)
    async with session_scope(readonly=True) as session:
        envs = (await session.exec(select(Environment.id, Environment.audit_retention_days))).all()
    out: dict[str, Purged] = {}
    for env_id, days in envs:
        purged = await purge_environment(env_id, now - timedelta(days=days), batch_rows)
        if purged.rows:
            log.info("audit retention: %d rows older than %d days deleted in environment %s", purged.rows,
                     days, env_id)
        out[str(env_id)] = purged
    return out


async def run(interval_s: float) -> None:
    """Background task: a round now, then one every `interval_s` (partitions ahead, whole months past
    every retention dropped, then the expired rows of each environment)."""
    while True:
        try:
            now = datetime.now(UTC)
            await audit_partitions.ensure_months(now)
            await audit_partitions.drop_expired_months(now)
            await purge_expired(now)
        except Exception:  # noqa: BLE001 - retried next round; the process must not stop for this
            log.exception("audit retention round failed")
        await asyncio.sleep(interval_s)
