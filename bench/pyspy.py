"""`--profile`: py-spy on the serving process during a 32-connection wrk run; flamegraph SVG + top functions."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.procs import spawn, stop
from bench.wrk import run_wrk

PY_SPY = Path(sys.executable).parent / "py-spy"
# Install prefixes carry no information in a report: keep the path from the package on.
_PREFIX = re.compile(r"^.*(?:site-packages/|/work/main/|/lib/python3\.\d+/)")


def ensure_py_spy() -> bool:
    """Install py-spy into the venv if missing; returns True when this call installed it."""
    if PY_SPY.exists():
        return False
    print("[bench] py-spy missing: pip install py-spy into the venv", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True, timeout=300)
    return True


def _frame_name(frame: str) -> str:
    """`handle (vmx_app/x.py:42)` -> `handle (vmx_app/x.py)`: lines of one function add up."""
    name, _, where = frame.partition(" (")
    if not where:
        return frame
    path = where.rstrip(")").rsplit(":", 1)[0]
    path = _PREFIX.sub("", path)
    return f"{name} ({path})"


def top_functions(collapsed: str, limit: int = 25, app: str = "(vmx_app/") -> dict[str, Any]:
    """From py-spy's raw (collapsed stack) output: the functions with the most own and total samples,
    and the project's own functions (`app` in the frame) by total samples, where its time goes."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    pct = (lambda n: round(100 * n / samples, 1)) if samples else (lambda n: 0.0)
    return {
        "samples": samples,
        "self": [{"function": f, "pct": pct(n)} for f, n in own.most_common(limit)],
        "total": [{"function": f, "pct": pct(n)} for f, n in total.most_common(limit)],
        "app_total": [{"function": f, "pct": pct(n)} for f, n in total.most_common() if app in f][:limit],
    }


def profile_run(pid: int, url: str, script: Path, duration_s: float, workdir: Path) -> dict[str, Any]:
    """Two non-blocking py-spy samplers on `pid` (one writes the SVG, one the raw stacks) during wrk -c32."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    svg = Path(f"/tmp/vmx-bench-flame-{stamp}.svg")
    raw = workdir / "profile.collapsed"
    seconds = str(max(2, round(duration_s)))
    base = [str(PY_SPY), "record", "--pid", str(pid), "--rate", "200", "--duration", seconds, "--nonblocking"]
    recorders = [
        spawn([*base, "--format", "flamegraph", "-o", str(svg)], env={}, log=workdir / "py-spy-svg.log"),
        spawn([*base, "--format", "raw", "-o", str(raw)], env={}, log=workdir / "py-spy-raw.log"),
    ]
    time.sleep(0.5)  # let both attach before the load starts
    run = run_wrk(url, script, threads=2, connections=32, duration_s=duration_s)
    for recorder in recorders:
        with contextlib.suppress(subprocess.TimeoutExpired):
            recorder.wait(timeout=30)
        stop(recorder)
    result: dict[str, Any] = {"flamegraph": str(svg) if svg.exists() else None, "wrk_under_profile": run.to_json()}
    result.update(top_functions(raw.read_text() if raw.exists() else ""))
    return result


def print_top(profile: dict[str, Any], limit: int = 15) -> None:
    print(f"py-spy: {profile.get('samples', 0)} samples; flamegraph: {profile.get('flamegraph')}")
    for kind, title in (("self", "own samples"), ("total", "total samples"), ("app_total", "vmx_app, total")):
        print(f"  top functions by {title}:")
        for entry in profile.get(kind, [])[:limit]:
            print(f"    {entry['pct']:5.1f}%  {entry['function']}")
