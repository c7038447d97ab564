"""Streaming time-to-first-token: N sequential streaming chat completions over one keep-alive connection."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import orjson


@dataclass
class TtftResult:
    """Milliseconds from sending the request to the first SSE event with non-empty content, and to its end."""

    samples_ms: list[float] = field(default_factory=list)
    totals_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    @property
    def count(self) -> int:
        return len(self.samples_ms)

    def median(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None

    def p90(self) -> float | None:
        return percentile(self.samples_ms, 90)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["samples_ms"], data["totals_ms"]
        data.update(count=self.count, median_ms=self.median(), p90_ms=self.p90(),
                    stream_median_ms=statistics.median(self.totals_ms) if self.totals_ms else None)
        return data


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (what wrk reports too)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def first_content(line: bytes) -> bool | None:
    """For one SSE line: True if it carries content, None if the stream reports an error, else False."""
    if not line.startswith(b"data:"):
        return False
    payload = line[5:].strip()
    if payload in (b"[DONE]", b""):
        return False
    if payload == b"[ERROR]":
        return None
    event = orjson.loads(payload)
    if "error" in event:
        return None
    return any((choice.get("delta") or {}).get("content") for choice in event.get("choices") or [])


async def _one(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    ttft: float | None = None
    done = False
    async with session.post(url, data=body, headers=headers) as resp:
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {(await resp.text())[:300]}")
        async for raw in resp.content:
            line = raw.strip()
            if line == b"data: [DONE]":
                done = True
            flag = first_content(line)
            if flag is None:
                raise RuntimeError(f"error event: {line[:300]!r}")
            if flag and ttft is None:
                ttft = time.perf_counter() - started
    if ttft is None or not done:
        raise RuntimeError("stream ended without content or without [DONE]")
    return ttft * 1000, (time.perf_counter() - started) * 1000


async def measure_ttft(url: str, body: dict[str, Any], headers: dict[str, str], *, requests: int,
                       warmup: int = 5) -> TtftResult:
    """Sequential requests (one at a time), so each number is the latency of an idle gateway."""
    result = TtftResult()
    payload = orjson.dumps(body)
    all_headers = {"Content-Type": "application/json", **headers}
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for i in range(warmup + requests):
            try:
                ttft_ms, total_ms = await _one(session, url, payload, all_headers)
            except (aiohttp.ClientError, RuntimeError, TimeoutError, ValueError) as exc:
                result.errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                continue
            if i >= warmup:
                result.samples_ms.append(ttft_ms)
                result.totals_ms.append(total_ms)
    return result
