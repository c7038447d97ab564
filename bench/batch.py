"""Batch completions: items/s through the fast fake upstream with one and with two gateway processes, and
the latency of live requests (p50/p95, sent at a steady rate) with and without a batch running in the
same process.

    .venv/bin/python bench/batch.py [--items 2000] [--workers 32] [--live-rate 20] [--live-seconds 5]
                                    [--database-url postgresql+asyncpg://… --redis-url redis://…]

Embedded (SQLite) by default; with --database-url the processes share that PostgreSQL database (each run
migrates a fresh one you create). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.procs import free_port, spawn, stop, stop_all, wait_http  # noqa: E402
from bench.run import start_upstream  # noqa: E402
from bench.state import BenchTarget, chat_body, embedded_env, fresh_data_dir, provision  # noqa: E402

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


class LiveProbe(threading.Thread):
    """Live chat requests at a steady rate until stopped: their latencies (ms) and statuses."""

    def __init__(self, base: str, target: BenchTarget, rate: float) -> None:
        super().__init__(daemon=True)
        self.base, self.target, self.interval = base, target, 1.0 / rate
        self.latencies: list[float] = []
        self.errors = 0
        self.done = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.target.api_key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as http:
            next_at = time.monotonic()
            while not self.done.is_set():
                t0 = time.perf_counter()
                r = http.post(self.target.completion_path(), json=chat_body())
                self.latencies.append((time.perf_counter() - t0) * 1000)
                self.errors += r.status_code != 200
                next_at += self.interval
                self.done.wait(max(0.0, next_at - time.monotonic()))

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies)
        if len(lat) < 2:
            return {"requests": len(lat)}
        cuts = statistics.quantiles(lat, n=100)
        return {"requests": len(lat), "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1),
                "errors": self.errors}


def live_latency(base: str, target: BenchTarget, rate: float, seconds: float | None = None,
                 batch_items: int = 0) -> tuple[dict[str, float], dict[str, float] | None]:
    """Live latency for `seconds` of an idle gateway, or for as long as a batch of `batch_items` runs."""
    probe = LiveProbe(base, target, rate)
    probe.start()
    batch = None
    try:
        if batch_items:
            batch = run_batch(base, target.workspace_id, target.environment_id, target.api_key, batch_items)
        else:
            time.sleep(seconds or 5.0)
    finally:
        probe.done.set()
        probe.join(30)
    return probe.summary(), batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=32, help="VMX_BATCH_WORKERS per process")
    parser.add_argument("--live-rate", type=float, default=20.0, help="live requests per second")
    parser.add_argument("--live-seconds", type=float, default=5.0, help="live probe without a batch")
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
                if n == 1:  # live requests on the same resource, through the process that runs the batch
                    idle, _ = live_latency(base, target, args.live_rate, seconds=args.live_seconds)
                    busy, batch = live_latency(base, target, args.live_rate, batch_items=args.items)
                    print(f"live latency, no batch ({args.live_rate:g}/s): {idle}", flush=True)
                    print(f"live latency, during a batch of {args.items}: {busy} (batch: {batch})", flush=True)
            finally:
                for _, proc in gateways:
                    stop(proc)
    finally:
        stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
