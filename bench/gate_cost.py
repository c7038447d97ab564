"""CPU per request of the capacity gate alone (check + settle), no HTTP: the steady number behind
`bench/capacity.py`'s throughput ratio, which this shared machine makes noisy.

    PYTHONPATH=. .venv/bin/python bench/gate_cost.py [--requests 20000] [--concurrency 32] [--rounds 3]

Starts a private redis-server (its CPU is then only ours), builds the same limits as bench/capacity.py (a
minute limit on the connection, the resource and the API key, enforceCapacity on, a day budget on the
environment, the resource and the API key) and runs `concurrency` tasks on uvloop that each check, wait
for a simulated provider (0-2 ms), then settle. The same loop with no limits is the baseline; the
difference is what the limits cost. Prints µs of CPU per request of this process and of Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import cpu_seconds  # noqa: E402
from bench.procs import free_port  # noqa: E402
from vmx_app.gateway.capacity.enforcing import CapacityGate  # noqa: E402
from vmx_app.gateway.capacity.gate import LegContext  # noqa: E402
from vmx_app.gateway.capacity.redis_counters import RedisCounters  # noqa: E402
from vmx_app.gateway.config import (  # noqa: E402
    ApiKeySnapshot,
    ConnectionSnapshot,
    EnvironmentSnapshot,
    ModelSlot,
    ResourceSnapshot,
)
from vmx_app.gateway.types import Usage  # noqa: E402

WS, ENV = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
MINUTE = [{"period": "minute", "requests": 1_000_000_000, "tokens": 1_000_000_000_000}]
BUDGET = [{"period": "day", "amountUsd": 1_000_000}]


def contexts(on: bool) -> LegContext:
    capacity, budgets = (MINUTE, BUDGET) if on else ([], [])
    common = {"workspaceId": WS, "environmentId": ENV}
    conn = ConnectionSnapshot.model_validate({**common, "id": "c0000000-0000-0000-0000-000000000001",
                                              "name": "conn", "provider": "openai", "config": {},
                                              "capacity": capacity})
    slot = ModelSlot(provider="openai", model="gpt-4o-mini", connection_id=conn.id)
    res = ResourceSnapshot.model_validate({**common, "id": "r0000000-0000-0000-0000-000000000001", "name": "res",
                                           "model": slot.model_dump(), "capacity": capacity,
                                           "enforceCapacity": on, "budgets": budgets})
    key = ApiKeySnapshot.model_validate({**common, "id": "k0000000-0000-0000-0000-000000000001", "name": "key",
                                         "capacity": capacity, "enforceCapacity": on, "budgets": budgets})
    env = EnvironmentSnapshot.model_validate({"id": ENV, "workspaceId": WS, "name": "prod", "budgets": budgets})
    return LegContext("req", WS, ENV, res, conn, slot, key, "127.0.0.1", 20, False, env, None)


async def load(gate: CapacityGate, ctx: LegContext, requests: int, concurrency: int) -> None:
    left = requests
    usage = Usage(input=20, output=10)

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            verdict = await gate.check(ctx)
            assert verdict.allowed, verdict.message
            await asyncio.sleep(random.random() * 0.002)
            await gate.settle(ctx, verdict, usage, failed=False)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await gate.flush()


async def measure(url: str, redis_pid: int, args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    gate = CapacityGate(RedisCounters(client, url=url), prefix="bench:", price_of=lambda _p, _m: (0.15, 0.6),
                        cost_of=lambda _p, _m, u: (u.input * 0.15 + u.output * 0.6) / 1e6)
    out: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    ctxs = {mode: contexts(mode == "on") for mode in out}
    for mode in out:  # warm-up: scripts loaded, plans cached, connection open
        await load(gate, ctxs[mode], 500, args.concurrency)
    for _ in range(args.rounds):
        for mode in out:
            cpu0, redis0 = time.process_time(), cpu_seconds([redis_pid])
            await load(gate, ctxs[mode], args.requests, args.concurrency)
            cpu, redis_cpu = time.process_time() - cpu0, cpu_seconds([redis_pid]) - redis0
            out[mode].append((cpu / args.requests * 1e6, redis_cpu / args.requests * 1e6))
    await client.aclose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                              "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        results: Any = uvloop.run(measure(f"redis://127.0.0.1:{port}/0", redis.pid, args))
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    print(f"gate CPU per request ({args.requests:,} requests x {args.rounds} rounds, {args.concurrency} tasks):")
    for mode, rows in results.items():
        print(f"  {mode}: process " + ", ".join(f"{p:.1f}" for p, _ in rows) + " µs; redis "
              + ", ".join(f"{r:.1f}" for _, r in rows) + " µs")
    off = [statistics.median(v[i] for v in results["off"]) for i in (0, 1)]
    on = [statistics.median(v[i] for v in results["on"]) for i in (0, 1)]
    print(f"  limits cost (median on - off): process {on[0] - off[0]:+.1f} µs, redis {on[1] - off[1]:+.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
