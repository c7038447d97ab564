"""Throughput with and without capacity limits and budgets on every level (issue 10's speed goal).

    PYTHONPATH=. .venv/bin/python bench/capacity.py [--quick] [--rounds 2] [--profile]

Production profile: a fresh PostgreSQL database and Redis (127.0.0.1:6379, its own key prefix), one
gateway-only worker, the fast upstream. Rounds alternate "off" (no limits) and "on" (a minute limit
on the connection, the resource and the API key, both `enforceCapacity` on, and a day budget on the
environment, the resource and the API key, all far from being reached) on the same process, and print
32-connection req/s of each. Nothing asserts: it prints numbers. `--profile`: afterwards one extra
32-connection run per mode under py-spy, with the top functions of each (where the limits' time goes).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import Plan, load_runs, log  # noqa: E402
from bench.procs import free_port, spawn, stop_all, wait_http  # noqa: E402
from bench.pyspy import print_top  # noqa: E402
from bench.run import start_upstream, vmx_endpoint  # noqa: E402
from bench.state import ADMIN_EMAIL, RESOURCE, check_completion, embedded_env, provision  # noqa: E402

PG = os.environ.get("VMX_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VMX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
MINUTE = [{"period": "minute", "requests": 1_000_000_000, "tokens": 1_000_000_000_000}]
BUDGET = [{"period": "day", "amountUsd": 1_000_000}]


def _pg(sql: str) -> None:
    conn = psycopg2.connect(PG, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def production_env(data_dir: Path, password: str, db: str, prefix: str) -> dict[str, str]:
    env = embedded_env(data_dir, password)
    env.update({"DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}", "REDIS_URL": REDIS_URL,
                "REDIS_KEY_PREFIX": prefix, "PYTHONPATH": str(ROOT),
                "LIBSODIUM_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode()})
    return env


def redis_pid() -> int | None:
    """The Redis server's pid (CPU per request is counted for it too: it shares these cores)."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{urlparse(REDIS_URL).port or 6379}"], capture_output=True,
                         text=True, check=False).stdout
    found = re.search(r"pid=(\d+)", out)
    return int(found.group(1)) if found else None


def set_limits(base: str, password: str, ws: str, env_id: str, on: bool) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/v1/auth/login", json={"email": ADMIN_EMAIL, "password": password}).json()["accessToken"]
        http.headers["Authorization"] = f"Bearer {token}"
        capacity, budgets = (MINUTE, BUDGET) if on else ([], [])
        for kind in ("ai-connection", "ai-resource", "api-key"):
            for item in http.get(f"/v1/{kind}/{ws}/{env_id}").json()["data"]:
                body: dict[str, Any] = {"capacity": capacity}
                if kind != "ai-connection":
                    body |= {"enforceCapacity": on, "budgets": budgets}
                r = http.put(f"/v1/{kind}/{ws}/{env_id}/{item['id']}", json=body)
                r.raise_for_status()
        http.put(f"/v1/environment/{ws}/{env_id}", json={"budgets": budgets}).raise_for_status()


def profile_modes(base: str, password: str, target: Any, endpoint: Any, plan: Plan, workdir: Path,
                  pid: int) -> dict[str, dict[str, Any]]:
    from bench.pyspy import ensure_py_spy, profile_run
    from bench.wrk import post_script

    ensure_py_spy()
    script = workdir / "profile.lua"
    script.write_text(post_script(endpoint.body, endpoint.headers))
    out = {}
    for mode in ("off", "on"):
        set_limits(base, password, target.workspace_id, target.environment_id, mode == "on")
        time.sleep(1.0)
        log(f"profiling mode {mode}: py-spy during an extra 32-connection run")
        out[mode] = profile_run(pid, endpoint.url, script, plan.duration_s, workdir)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="py-spy on the gateway, one run per mode")
    args = parser.parse_args(argv)
    plan = Plan.for_args(args.quick)
    workdir = Path(tempfile.mkdtemp(prefix="vmx-bench-capacity-"))
    run_id = secrets.token_hex(4)
    db, prefix = f"vmx_bench_{run_id}", f"vmx-bench-{run_id}:"
    password = "Bench-" + secrets.token_hex(8)
    _pg(f"CREATE DATABASE {db}")
    results: dict[str, list[float]] = {"off": [], "on": []}
    cpu: dict[str, list[dict[str, float]]] = {"off": [], "on": []}  # CPU µs per request, per process
    try:
        _, upstream, _ = start_upstream(workdir)
        env = production_env(workdir, password, db, prefix)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = spawn([sys.executable, "-m", "vmx_app.cli", "gateway", "--host", "127.0.0.1", "--port", str(port)],
                     env=env, log=workdir / "gateway.log", cwd=ROOT)
        wait_http(f"{base}/healthz", proc, 90, workdir / "gateway.log")
        target = provision(base, password, upstream)
        endpoint = vmx_endpoint(base, target)
        for _ in range(args.rounds):
            for mode in ("off", "on"):
                set_limits(base, password, target.workspace_id, target.environment_id, mode == "on")
                time.sleep(1.0)  # config events reach the cache
                check_completion(base, target)
                resp = httpx.post(endpoint.url, json=endpoint.body, headers=endpoint.headers, timeout=30)
                limited = "x-ratelimit-remaining-requests" in resp.headers
                log(f"mode {mode}: x-ratelimit headers present: {limited}")
                roots = {"gateway": proc.pid, **({"redis": rpid} if (rpid := redis_pid()) else {})}
                run = load_runs(endpoint, plan, workdir, f"capacity-{mode}", cpu_roots=roots)
                rps = run["c32"]["rps"]
                results[mode].append(rps)
                cpu[mode].append({name: pct / 100 / rps * 1e6 for name, pct in run["cpu_32"].items()})
        profiles = profile_modes(base, password, target, endpoint, plan, workdir, proc.pid) if args.profile else {}
        off, on = statistics.median(results["off"]), statistics.median(results["on"])
        print(f"\n{RESOURCE}: 32-connection req/s, production profile (Postgres + Redis), "
              f"{plan.duration_s:.0f} s per run")
        print(f"  without limits: {', '.join(f'{v:,.0f}' for v in results['off'])} (median {off:,.0f})")
        print(f"  with limits and budgets on every level: {', '.join(f'{v:,.0f}' for v in results['on'])} "
              f"(median {on:,.0f})")
        print(f"  ratio: {on / off:.3f} ({100 * (1 - on / off):+.1f} % slower)")
        for mode in ("off", "on"):
            per = {name: statistics.median(c[name] for c in cpu[mode]) for name in cpu[mode][0]}
            rounds = "; ".join(", ".join(f"{us:,.0f}" for us in c.values()) for c in cpu[mode])
            print(f"  CPU per request at 32 connections, {mode}: "
                  + ", ".join(f"{name} {us:,.0f} µs" for name, us in per.items()) + f" (rounds: {rounds})")
        for mode, profile in profiles.items():
            print(f"\n  profile, {mode}:")
            print_top(profile, limit=25)
        return 0
    finally:
        stop_all()
        _pg(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)


if __name__ == "__main__":
    sys.exit(main())
