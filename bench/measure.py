"""One measurement set (1 conn, 32 conn, TTFT, RSS) against one HTTP endpoint."""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import children, listening_pid, rss_mb, tree_rss_mb
from bench.report import fmt
from bench.ttft import measure_ttft
from bench.wrk import WrkResult, post_script, run_wrk

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Plan:
    """How long and how much: `--quick` shortens everything."""

    duration_s: float
    warmup_s: float
    ttft_requests: int
    rss_goal: int
    topup_cap_s: float

    @classmethod
    def for_args(cls, quick: bool) -> Plan:
        if quick:
            return cls(duration_s=5, warmup_s=1, ttft_requests=50, rss_goal=10_000, topup_cap_s=20)
        return cls(duration_s=10, warmup_s=2, ttft_requests=200, rss_goal=100_000, topup_cap_s=60)


@dataclass(frozen=True)
class Endpoint:
    """Where to send the load: the URL, the JSON bodies (plain and streaming) and the headers."""

    url: str
    body: dict[str, Any]
    stream_body: dict[str, Any]
    headers: dict[str, str]


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes, in seconds (those that vanished count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5), after pid and comm
    return total / _TICK


class CpuMeter:
    """CPU use of process trees over one interval, as a percentage of one core."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.pids = {name: [pid, *children(pid)] for name, pid in roots.items()}
        self.start = {name: cpu_seconds(pids) for name, pids in self.pids.items()}
        self.t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        return {name: 100 * (cpu_seconds(pids) - self.start[name]) / wall for name, pids in self.pids.items()}


def _script(workdir: Path, name: str, endpoint: Endpoint) -> Path:
    path = workdir / f"{name}.lua"
    path.write_text(post_script(endpoint.body, endpoint.headers))
    return path


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _show(label: str, run: WrkResult) -> None:
    errors = f", {run.errors:,} ERRORS" if run.errors else ""
    log(f"  {label}: {run.rps:,.0f} req/s, p50 {fmt(run.p(50), ' ms', 3)}, p99 {fmt(run.p(99), ' ms', 3)} "
        f"({run.requests:,} requests{errors})")


def load_runs(endpoint: Endpoint, plan: Plan, workdir: Path, name: str,
              cpu_roots: dict[str, int] | None = None) -> dict[str, Any]:
    """Warm-up, then wrk at 1 connection and at 32 connections (with CPU use of `cpu_roots` during it)."""
    script = _script(workdir, name, endpoint)
    # Other work on this 2-core machine skews every number: the load average says how busy it was.
    out: dict[str, Any] = {"loadavg_before": os.getloadavg()}
    warm = run_wrk(endpoint.url, script, threads=2, connections=32, duration_s=plan.warmup_s)
    out["warmup"] = warm.to_json()
    c1 = run_wrk(endpoint.url, script, threads=1, connections=1, duration_s=plan.duration_s)
    _show(f"{name} 1 conn", c1)
    meter = CpuMeter(cpu_roots) if cpu_roots else None
    c32 = run_wrk(endpoint.url, script, threads=2, connections=32, duration_s=plan.duration_s)
    _show(f"{name} 32 conn", c32)
    if meter is not None:
        out["cpu_32"] = meter.stop()
    out["c1"], out["c32"] = c1.to_json(), c32.to_json()
    out["served"] = warm.requests + c1.requests + c32.requests
    return out


def ttft_run(endpoint: Endpoint, plan: Plan, name: str) -> dict[str, Any]:
    result = asyncio.run(measure_ttft(endpoint.url, endpoint.stream_body, endpoint.headers,
                                      requests=plan.ttft_requests))
    log(f"  {name} TTFT: median {fmt(result.median(), ' ms', 3)}, p90 {fmt(result.p90(), ' ms', 3)} "
        f"({result.count} streams, {result.errors} errors)")
    data = result.to_json()
    data["served"] = result.count + result.errors + 5  # plus the warm-up streams
    return data


def top_up(endpoint: Endpoint, plan: Plan, workdir: Path, served: int, rps: float) -> tuple[int, int]:
    """Send the requests still missing to reach `plan.rss_goal`, within `plan.topup_cap_s` seconds.
    wrk has no request count (a thread's stop() still waits out -d), so: runs sized by the last rate.
    Returns (requests sent, errors)."""
    sent = errors = 0
    deadline = time.monotonic() + plan.topup_cap_s
    script = _script(workdir, "topup", endpoint)
    while served + sent < plan.rss_goal and (left := deadline - time.monotonic()) >= 1:
        remaining = plan.rss_goal - served - sent
        duration = min(left, max(1.0, math.ceil(remaining / max(rps, 1.0))))
        log(f"  {remaining:,} more requests for the RSS reading: wrk -c32 for {duration:.0f} s")
        run = run_wrk(endpoint.url, script, threads=2, connections=32, duration_s=duration)
        sent, errors, rps = sent + run.requests, errors + run.errors, run.rps
    return sent, errors


def rss_reading(server_pid: int, root_pid: int, served: int, errors: int) -> dict[str, Any]:
    return {"pid": server_pid, "mb": rss_mb(server_pid), "tree_mb": tree_rss_mb(root_pid),
            "requests": served, "errors": errors}


def measure_vmx(endpoint: Endpoint, plan: Plan, workdir: Path, *, root_pid: int, port: int, upstream_pid: int,
                name: str, served_before: int, with_topup: bool,
                profile: Callable[[int], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything for one VM-X mode. `root_pid` is the process we started; the server is the one listening."""
    server_pid = listening_pid(port, root_pid) or root_pid
    out = load_runs(endpoint, plan, workdir, name, cpu_roots={"vmx": root_pid, "upstream": upstream_pid})
    out["server_pid"] = server_pid
    out["ttft"] = ttft_run(endpoint, plan, name)
    served = served_before + out["served"] + out["ttft"]["served"]
    errors = out["c1"]["errors"] + out["c32"]["errors"] + out["warmup"]["errors"] + out["ttft"]["errors"]
    if with_topup:
        sent, topup_errors = top_up(endpoint, plan, workdir, served, out["c32"]["rps"])
        served, errors = served + sent, errors + topup_errors
    out["rss"] = rss_reading(server_pid, root_pid, served, errors)
    log(f"  {name} RSS {fmt(out['rss']['mb'], ' MB', 1)} after {served:,} requests (pid {server_pid})")
    if profile is not None:
        out["profile"] = profile(server_pid)
    return out
