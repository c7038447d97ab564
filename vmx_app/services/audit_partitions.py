"""request_audit's monthly partitions on PostgreSQL (migration 0004_audit_trail makes the table partitioned): months
are created ahead, so rows never land in the default partition, and a month is dropped whole once every
environment's retention has passed it (the per-environment batched DELETE handles the rest). SQLite has
no partitions: both functions do nothing there.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from vmx_app.db import get_engine

log = logging.getLogger("vmx.audit")
MONTHS_AHEAD = 2
_NAME = re.compile(r"^request_audit_p(\d{4})(\d{2})$")


def _month_start(moment: datetime, months_later: int = 0) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months_later
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


_PARTITIONS = ("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
               "WHERE i.inhparent = 'request_audit'::regclass")


async def ensure_months(now: datetime, ahead: int = MONTHS_AHEAD, engine: AsyncEngine | None = None) -> list[str]:
    """Create this month's partition and the next `ahead` ones; returns the names created."""
    engine = engine or get_engine()
    if engine.dialect.name != "postgresql":
        return []
    created = []
    async with engine.begin() as conn:
        existing = {r[0] for r in await conn.execute(sa.text(_PARTITIONS))}
        for n in range(ahead + 1):
            start, end = _month_start(now, n), _month_start(now, n + 1)
            name = f"request_audit_p{start:%Y%m}"
            if name in existing:
                continue
            await conn.execute(sa.text(  # names and bounds are ours, not input: formatted, not bound
                f"CREATE TABLE {name} PARTITION OF request_audit FOR VALUES FROM ('{start.isoformat()}') "
                f"TO ('{end.isoformat()}')"))
            created.append(name)
    if created:
        log.info("audit partitions created: %s", ", ".join(created))
    return created


async def drop_rollup_before(cutoff: datetime, environment_id: object, engine: AsyncEngine | None = None) -> None:
    """The usage rollup's hours before `cutoff` (a whole UTC hour) of one environment, whose rows are gone."""
    engine = engine or get_engine()
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM request_audit_rollup WHERE environment_id = :env AND hour < :cutoff"),
                           {"env": environment_id, "cutoff": cutoff})


async def drop_expired_months(now: datetime, engine: AsyncEngine | None = None) -> list[str]:
    """Drop the months that end before the longest retention of any environment; returns their names."""
    engine = engine or get_engine()
    if engine.dialect.name != "postgresql":
        return []
    async with engine.begin() as conn:
        longest = (await conn.execute(sa.text("SELECT max(audit_retention_days) FROM environments"))).scalar()
        if longest is None:
            return []
        cutoff = now - timedelta(days=int(longest))
        names = [r[0] for r in await conn.execute(sa.text(_PARTITIONS))]
        dropped = []
        for name in sorted(names):
            match = _NAME.match(name)
            end = _month_start(datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC), 1) if match else None
            if end is not None and end <= cutoff:
                await conn.execute(sa.text(f"DROP TABLE {name}"))
                await conn.execute(sa.text("DELETE FROM request_audit_rollup WHERE hour < :end"), {"end": end})
                dropped.append(name)
    if dropped:
        log.info("audit partitions past every retention dropped: %s", ", ".join(dropped))
    return dropped
