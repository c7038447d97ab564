"""No audit row lost, none doubled: 5,000 requests through a real gateway process whose PostgreSQL
connection runs through a TCP proxy that the test cuts twice (once across a SIGTERM and restart),
then exactly 5,000 rows, one per request id.

PostgreSQL always (a database of its own, whatever the profile): the outage path under test is the
production one, and the shared server is never stopped.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg2
import pytest

from tests.conftest import login
from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, make_env
from tests.support import profile
from tests.support.servers import ROOT, free_port, gateway_command, running, stop
from tests.support.tcp_proxy import TcpProxy

PHASES = (1500, 1500, 1000, 500, 500)  # up | down, then SIGTERM | restarted, up | down | restored
CONCURRENCY = 24


@pytest.fixture
def database() -> Iterator[str]:
    name = f"vmx_noloss_{secrets.token_hex(4)}"
    profile._pg(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        profile._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _count(db: str) -> tuple[int, int]:
    conn = psycopg2.connect(f"postgresql://postgres@127.0.0.1:5432/{db}")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT request_id) FROM request_audit")
        total, distinct = cur.fetchone()  # type: ignore[misc]
    conn.close()
    return int(total), int(distinct)


def _request_ids(db: str) -> set[str]:
    conn = psycopg2.connect(f"postgresql://postgres@127.0.0.1:5432/{db}")
    with conn.cursor() as cur:
        cur.execute("SELECT request_id FROM request_audit")
        ids = {r[0] for r in cur.fetchall()}
    conn.close()
    return ids


async def _burst(env: Env, count: int, label: str) -> list[str]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=env.base_url, headers=env.headers(), timeout=60,
                                 limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
        async def one(i: int) -> str:
            async with limit:
                body = {"model": "noloss", "messages": [{"role": "user", "content": f"{label} {i}"}]}
                r = await http.post("/chat/completions", json=body)
                assert r.status_code == 200, r.text
                return r.headers["x-vmx-request-id"]

        return list(await asyncio.gather(*(one(i) for i in range(count))))


def _spooled_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in (data_dir / "audit-spool").glob("spool-*.bin"))


def test_5000_requests_through_outages_and_a_restart_leave_5000_rows(
        tmp_path: Path, database: str, fake_upstream: FakeUpstream) -> None:
    proxy = TcpProxy(5432)
    proxy.start()
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_RO_URL")}
    env.update(DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{database}",
               VMX_DATA_DIR=str(data_dir), VMX_AUDIT_FLUSH_INTERVAL_SECONDS="0.2",
               VMX_AUDIT_WRITE_TIMEOUT_SECONDS="3", VMX_CONFIG_CACHE_TTL_SECONDS="600",
               LIBSODIUM_ENCRYPTION_KEY=base64.b64encode(secrets.token_bytes(32)).decode())
    subprocess.run([sys.executable, "-m", "vmx_app.cli", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sent: list[str] = []
    try:
        with running(gateway_command(port), ready_url=f"{url}/readyz", env=env, log=tmp_path / "gw1.log") as first:
            with httpx.Client(base_url=url, timeout=30, headers={
                    "Authorization": f"Bearer {login(url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)}"}) as admin:
                e = make_env(url, admin, fake_upstream, "noloss")
                e.resource(e.slot("openai"), name="noloss")
            sent += asyncio.run(_burst(e, PHASES[0], "up"))
            proxy.cut()
            sent += asyncio.run(_burst(e, PHASES[1], "down"))
            stop(first)  # SIGTERM with the database unreachable: the queue goes to the spool
        assert _spooled_bytes(data_dir) > 0
        proxy.restore()
        with running(gateway_command(port), ready_url=f"{url}/readyz", env=env, log=tmp_path / "gw2.log"):
            sent += asyncio.run(_burst(e, PHASES[2], "restarted"))
            proxy.cut()
            sent += asyncio.run(_burst(e, PHASES[3], "down again"))
            proxy.restore()
            sent += asyncio.run(_burst(e, PHASES[4], "restored"))
            deadline = time.monotonic() + 120
            while _count(database)[0] < len(sent) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert httpx.get(f"{url}/readyz").json()["checks"]["auditSpool"]["bytes"] == 0
    finally:
        proxy.stop()
    assert len(sent) == len(set(sent)) == sum(PHASES) == 5000
    assert _count(database) == (5000, 5000)
    assert _request_ids(database) == set(sent)
    assert _spooled_bytes(data_dir) == 0
