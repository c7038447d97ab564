"""`errorRate` counters shared by every process through Redis (production profile, DESIGN §1: no state
another pod needs lives in one process).

The hot path stays synchronous and free of Redis round trips: `record()` counts into a local pending
bucket, `stats()` reads the last snapshot pulled from Redis plus what is still pending here. Once a
second `sync()` pushes the pending counts (HINCRBY per minute bucket, one pipeline) and pulls the
buckets of every key this process routes on, so a rule sees failures recorded by other pods within
about a second, like the original's flush-every-second counters.

Redis layout: one hash per (resource, connection, model, minute),
`<prefix>errrate:{<resource>:<connection>:<model>}:<minute>` with fields `s` (success), `f` (failed)
and `f:<status>`; the braces keep a key's minutes in one Redis Cluster slot. Buckets expire after the
retention (3 hours).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from vmx_app.gateway.metrics import (
    DEFAULT_WINDOW_MINUTES,
    MAX_WINDOW_MINUTES,
    RETENTION_MINUTES,
    Bucket,
    ErrorRateCounters,
    ErrorRateKey,
    ErrorRateStats,
    StatusFilter,
    minute_of,
)

log = logging.getLogger("vmx.gateway")
SYNC_INTERVAL_S = 1.0
WATCH_TTL_S = 600.0


class SharedErrorRates:
    def __init__(self, redis: Any, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._pending = ErrorRateCounters()
        self._remote = ErrorRateCounters()  # the buckets pulled from Redis (every process's counts)
        self._inflight: ErrorRateCounters | None = None  # pushed, not yet pulled back: still counted
        # Keys routing asked about -> (widest window, when last asked); only these are pulled.
        self._watched: dict[ErrorRateKey, tuple[int, float]] = {}

    def _hash(self, key: ErrorRateKey, minute: int) -> str:
        resource, connection, model = key
        return f"{self._prefix}errrate:{{{resource}:{connection}:{model}}}:{minute}"

    # ---- the ErrorRateSource protocol (synchronous, no I/O) ----------------------------------------

    def record(self, key: ErrorRateKey, status_code: int, now: float) -> None:
        self._pending.record(key, status_code, now)

    def stats(self, key: ErrorRateKey, window_minutes: int, status: StatusFilter,
              now: float) -> ErrorRateStats:
        window = max(1, min(int(window_minutes), MAX_WINDOW_MINUTES))
        widest = max(window, self._watched.get(key, (DEFAULT_WINDOW_MINUTES, 0.0))[0])
        self._watched[key] = (widest, now)  # the next sync pulls that far back
        parts = [self._remote, self._pending] + ([self._inflight] if self._inflight is not None else [])
        counted = [c.stats(key, window, status, now) for c in parts]
        success = sum(c.total_success for c in counted)
        failed = sum(c.total_failed for c in counted)
        total = sum(c.total_requests for c in counted)
        return ErrorRateStats(error_rate=100.0 * failed / total if total else 0.0, total_success=success,
                              total_failed=failed, total_requests=total)

    def error_rate(self, key: ErrorRateKey, window_minutes: int, status: StatusFilter, now: float) -> float:
        return self.stats(key, window_minutes, status, now).error_rate

    # ---- synchronisation -------------------------------------------------------------------------

    async def sync(self, now: float) -> None:
        """Push what was counted here since the last sync, then pull every watched key's buckets."""
        pending, self._pending = self._pending, ErrorRateCounters()
        self._inflight = pending  # still counted by stats() until the pull brings it back from Redis
        try:
            try:
                await self._push(pending)
            except (RedisError, OSError):
                self._merge_into(self._pending, pending)  # nothing is lost: the next sync pushes it again
                raise
            try:
                await self._pull(now)
            except (RedisError, OSError):
                self._merge_into(self._remote, pending)  # pushed: keep counting it until a pull succeeds
                raise
        finally:
            self._inflight = None

    async def _push(self, pending: ErrorRateCounters) -> None:
        buckets = pending.buckets()
        if not buckets:
            return
        pipe = self._redis.pipeline(transaction=False)
        ttl = RETENTION_MINUTES * 60 + 120
        for key, per_minute in buckets.items():
            for minute, bucket in per_minute.items():
                name = self._hash(key, minute)
                if bucket.success:
                    pipe.hincrby(name, "s", bucket.success)
                if bucket.failed:
                    pipe.hincrby(name, "f", bucket.failed)
                for code, count in bucket.failed_by_status.items():
                    pipe.hincrby(name, f"f:{code}", count)
                pipe.expire(name, ttl)
        await pipe.execute()

    @staticmethod
    def _merge_into(target: ErrorRateCounters, counts: ErrorRateCounters) -> None:
        for key, per_minute in counts.buckets().items():
            for minute, bucket in per_minute.items():
                target.add_bucket(key, minute, bucket)

    async def _pull(self, now: float) -> None:
        stale = [k for k, (_, asked) in self._watched.items() if now - asked > WATCH_TTL_S]
        for key in stale:  # no rule asked for a while: stop pulling it
            del self._watched[key]
        end = minute_of(now)
        wanted = [(key, minute) for key, (window, _) in self._watched.items()
                  for minute in range(end - window + 1, end + 1)]
        if not wanted:
            self._remote = ErrorRateCounters()
            return
        pipe = self._redis.pipeline(transaction=False)
        for key, minute in wanted:
            pipe.hgetall(self._hash(key, minute))
        answers = await pipe.execute()
        remote = ErrorRateCounters()
        for (key, minute), fields in zip(wanted, answers, strict=True):
            if fields:
                remote.add_bucket(key, minute, _bucket_of(fields))
        self._remote = remote

    async def run(self) -> None:
        """The background loop (started at start-up): sync every second, outliving Redis outages."""
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            try:
                await self.sync(time.time())
            except (RedisError, OSError) as exc:
                log.warning("error-rate sync with Redis failed (%s); counting locally until it is back", exc)


def _bucket_of(fields: dict[Any, Any]) -> Bucket:
    bucket = Bucket()
    for raw_name, raw_value in fields.items():
        name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
        value = int(raw_value)
        if name == "s":
            bucket.success = value
        elif name == "f":
            bucket.failed = value
        elif name.startswith("f:"):
            bucket.failed_by_status[int(name[2:])] = value
    return bucket
