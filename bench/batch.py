"""Batch completions: items/s through the fast fake upstream with one and with two gateway processes.

    .venv/bin/python bench/batch.py [--items 2000] [--workers 32] [--database-url postgresql+asyncpg://…
                                     --redis-url redis://…]

Embedded (SQLite) by default; with --database-url the processes share that PostgreSQL database (each run
migrates a fresh one you create). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.procs import free_port, spawn, stop, stop_all, wait_http  # noqa: E402
from bench.run import start_upstream  # noqa: E402
from bench.state import chat_body, embedded_env, fresh_data_dir, provision  # noqa: E402

VMX = [sys.executable, "-m", "vmx_app.cli"]  # this interpreter's VM-X (a worktree's, with PYTHONPATH)


def _gateways(n: int, env: dict[str, str], workdir: Path) -> list[tuple[str, Any]]:
    out = []
    for i in range(n):
        port = free_port()
        log = workdir / f"gateway-{n}-{i}.log"
        proc = spawn([*VMX, "gateway", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"], env=env,
                     log=log, cwd=ROOT)
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, 60, log)
        out.append((f"http://127.0.0.1:{port}", proc))
    return out


def run_batch(base: str, ws: str, env_id: str, key: str, items: int) -> dict[str, float]:
    body = chat_body()
    batch_items = [{"resourceName": body["model"], "customId": str(i),
                    "request": {"messages": body["messages"], "max_tokens": 64}} for i in range(items)]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
        t0 = time.monotonic()
        created = http.post(f"/v1/completion-batch/{ws}/{env_id}", json={"type": "async", "items": batch_items})
        created.raise_for_status()
        accepted = time.monotonic() - t0
        path = f"/v1/completion-batch/{ws}/{env_id}/{created.json()['id']}"
        while True:
            state = http.get(path).json()
            if state["remainingItems"] == 0 and state["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.1)
        total = time.monotonic() - t0
    return {"items": items, "accept_s": round(accepted, 2), "total_s": round(total, 2),
            "items_per_s": round(items / (total - accepted), 1), "failed": state["failedItems"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=32, help="VMX_BATCH_WORKERS per process")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    args = parser.parse_args(argv)
    workdir, password = fresh_data_dir()
    env = embedded_env(workdir, password)
    env.update({"VMX_BATCH_WORKERS": str(args.workers), "VMX_BATCH_CONCURRENCY_PER_CONNECTION": str(args.workers)})
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    try:
        subprocess.run([*VMX, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
        _, upstream, _ = start_upstream(workdir)
        results = {}
        target = None
        for n in (1, 2):
            gateways = _gateways(n, env, workdir)
            try:
                base = gateways[0][0]
                if target is None:
                    target = provision(base, password, upstream)
                results[n] = run_batch(base, target.workspace_id, target.environment_id, target.api_key, args.items)
                print(f"{n} process(es): {results[n]}", flush=True)
            finally:
                for _, proc in gateways:
                    stop(proc)
    finally:
        stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
