"""Drive wrk (the Debian package) with a Lua POST script and parse its text output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WRK = shutil.which("wrk") or "/usr/bin/wrk"

_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_PERCENT_LINE = re.compile(r"^\s*([\d.]+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.M)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class WrkResult:
    """One wrk run. Latencies in milliseconds; `errors` counts non-2xx/3xx answers and socket errors."""

    requests: int
    duration_s: float
    rps: float
    percentiles_ms: dict[str, float] = field(default_factory=dict)
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def p(self, percent: int) -> float | None:
        return self.percentiles_ms.get(str(percent))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = self.errors
        return data


def to_ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS[unit]


def parse_wrk_output(text: str) -> WrkResult:
    """Parse `wrk --latency` output. Raises ValueError when the summary lines are missing (wrk failed)."""
    total = _TOTAL.search(text)
    rps = _RPS.search(text)
    if total is None or rps is None:
        raise ValueError(f"not a wrk summary:\n{text[-2000:]}")
    percentiles = {_percent_key(p): to_ms(v, u) for p, v, u in _PERCENT_LINE.findall(text)}
    non_2xx = _NON_2XX.search(text)
    sock = _SOCKET.search(text)
    socket_errors = {}
    if sock is not None:
        socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True))
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=to_ms(total.group(2), total.group(3)) / 1000,
        rps=float(rps.group(1)),
        percentiles_ms=percentiles,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
    )


def _percent_key(percent: str) -> str:
    value = float(percent)
    return str(int(value)) if value.is_integer() else str(value)


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


def post_script(body: dict[str, Any], headers: dict[str, str]) -> str:
    """A wrk Lua script that POSTs `body` as JSON with `headers` (no response() hook: it would slow wrk)."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(json.dumps(body, separators=(',', ':')))}",
             'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def run_wrk(url: str, script: Path, *, threads: int, connections: int, duration_s: float,
            timeout_s: float = 5.0) -> WrkResult:
    """Run wrk once and parse it; `duration_s` is wrk's -d (bounded: the subprocess gets a hard timeout)."""
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
               f"--timeout={timeout_s:g}s", "--latency", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout[-1000:]}")
    return parse_wrk_output(done.stdout)
