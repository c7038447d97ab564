"""Per-minute success/failure counters behind the `errorRate` routing field (DESIGN §5).

Keys are (resource id, connection id, model). Like the original: success is status < 300,
failure is status >= 400 (3xx counts as neither), buckets live 3 hours. The in-process
implementation is for the embedded profile; a Redis-backed one implements the same Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

ErrorRateKey = tuple[str, str, str]  # (resource id, connection id, model)
StatusFilter = Literal["any"] | int

RETENTION_MINUTES = 180
MAX_WINDOW_MINUTES = RETENTION_MINUTES
DEFAULT_WINDOW_MINUTES = 10


@dataclass(frozen=True)
class ErrorRateStats:
    """What the error-rate endpoint answers: the rate and the counts it came from."""

    error_rate: float
    total_success: int
    total_failed: int
    total_requests: int


class ErrorRateSource(Protocol):
    def record(self, key: ErrorRateKey, status_code: int, now: float) -> None: ...

    def stats(self, key: ErrorRateKey, window_minutes: int, status: StatusFilter,
              now: float) -> ErrorRateStats: ...

    def error_rate(self, key: ErrorRateKey, window_minutes: int, status: StatusFilter,
                   now: float) -> float: ...


@dataclass
class Bucket:
    success: int = 0
    failed: int = 0
    failed_by_status: dict[int, int] = field(default_factory=dict)


def minute_of(now: float) -> int:
    return int(now // 60)


def _parse_status(status: StatusFilter | str) -> StatusFilter:
    if status == "any":
        return "any"
    if isinstance(status, bool):
        raise ValueError(f"status must be 'any' or an HTTP status code, not {status!r}")
    try:
        return int(status)
    except (TypeError, ValueError):
        raise ValueError(f"status must be 'any' or an HTTP status code, not {status!r}") from None


class ErrorRateCounters:
    """In-process ErrorRateSource. Not thread-safe: it lives on one event loop."""

    def __init__(self, retention_minutes: int = RETENTION_MINUTES) -> None:
        self._retention = retention_minutes
        self._buckets: dict[ErrorRateKey, dict[int, Bucket]] = {}
        self._last_sweep_minute = -1

    def record(self, key: ErrorRateKey, status_code: int, now: float) -> None:
        if 300 <= status_code < 400:
            return
        minute = minute_of(now)
        self._sweep(minute)
        per_key = self._buckets.setdefault(key, {})
        bucket = per_key.get(minute)
        if bucket is None:
            bucket = per_key[minute] = Bucket()
        if status_code < 300:
            bucket.success += 1
        else:
            bucket.failed += 1
            bucket.failed_by_status[status_code] = bucket.failed_by_status.get(status_code, 0) + 1

    def stats(self, key: ErrorRateKey, window_minutes: int, status: StatusFilter,
              now: float) -> ErrorRateStats:
        wanted = _parse_status(status)
        window = max(1, min(int(window_minutes), MAX_WINDOW_MINUTES))
        per_key = self._buckets.get(key)
        success = failed_any = failed_wanted = 0
        if per_key:
            end = minute_of(now)
            start = end - window + 1  # the last `window` minute buckets, the current one included
            for minute, bucket in per_key.items():
                if start <= minute <= end:
                    success += bucket.success
                    failed_any += bucket.failed
                    failed_wanted += (
                        bucket.failed if wanted == "any" else bucket.failed_by_status.get(wanted, 0)
                    )
        total = success + failed_any
        rate = 100.0 * failed_wanted / total if total else 0.0
        return ErrorRateStats(error_rate=rate, total_success=success, total_failed=failed_wanted,
                              total_requests=total)

    def error_rate(self, key: ErrorRateKey, window_minutes: int, status: StatusFilter, now: float) -> float:
        """Percent of requests that failed (with `status`, or at all) over the window; 0 without traffic."""
        return self.stats(key, window_minutes, status, now).error_rate

    def key_count(self) -> int:
        return len(self._buckets)

    def buckets(self) -> dict[ErrorRateKey, dict[int, Bucket]]:
        """key -> minute -> counts (read-only use: the shared counters push and merge these)."""
        return self._buckets

    def add_bucket(self, key: ErrorRateKey, minute: int, counts: Bucket) -> None:
        bucket = self._buckets.setdefault(key, {}).setdefault(minute, Bucket())
        bucket.success += counts.success
        bucket.failed += counts.failed
        for code, n in counts.failed_by_status.items():
            bucket.failed_by_status[code] = bucket.failed_by_status.get(code, 0) + n

    def _sweep(self, minute: int) -> None:
        # Once per minute: drop buckets past retention, and keys left with none, so memory stays bounded.
        if minute == self._last_sweep_minute:
            return
        self._last_sweep_minute = minute
        oldest = minute - self._retention
        for key in list(self._buckets):
            per_key = self._buckets[key]
            for m in [m for m in per_key if m <= oldest]:
                del per_key[m]
            if not per_key:
                del self._buckets[key]
