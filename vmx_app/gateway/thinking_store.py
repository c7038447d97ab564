"""Signed thinking blocks kept server-side, keyed by tool-call id (DESIGN §4, issue 12 item 3).

OpenAI-shaped clients (LangChain, the Agents SDK, pydantic-ai, the Vercel AI SDK) do not echo Claude's
signed thinking back with their tool results, and Anthropic refuses a tool-result turn whose assistant
turn lacks it while thinking is on. The gateway keeps the blocks of each tool-use answer for a while
and restores them on the next turn. Bounded (entries, bytes per entry) and with a TTL; in-process in
the embedded profile, Redis in production so any pod serves the next turn.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

log = logging.getLogger("vmx.gateway.thinking")

TTL_S = 3600.0  # an agent's next turn comes within seconds to minutes
MAX_ENTRIES = 5000
MAX_ENTRY_BYTES = 256 * 1024  # larger thinking is not kept (the request then runs without thinking)

Blocks = list[dict[str, Any]]  # Anthropic thinking / redacted_thinking blocks


class ThinkingStore(Protocol):
    async def put(self, scope: str, tool_call_ids: Sequence[str], blocks: Blocks) -> None: ...

    async def get(self, scope: str, tool_call_ids: Sequence[str]) -> list[Blocks | None]: ...


def _encode(blocks: Blocks) -> bytes | None:
    data = orjson.dumps(blocks)
    return data if len(data) <= MAX_ENTRY_BYTES else None


class InProcessThinkingStore:
    def __init__(self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, scope: str, tool_call_ids: Sequence[str], blocks: Blocks) -> None:
        data = _encode(blocks)
        if data is None:
            return
        expires = self._clock() + self._ttl
        for call_id in tool_call_ids:
            key = f"{scope}:{call_id}"
            self._items[key] = (expires, data)
            self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def get(self, scope: str, tool_call_ids: Sequence[str]) -> list[Blocks | None]:
        now = self._clock()
        out: list[Blocks | None] = []
        for call_id in tool_call_ids:
            key = f"{scope}:{call_id}"
            hit = self._items.get(key)
            if hit is not None and hit[0] <= now:
                del self._items[key]
                hit = None
            out.append(orjson.loads(hit[1]) if hit is not None else None)
        return out


class RedisThinkingStore:
    """`SET key blocks EX ttl` per tool-call id; `MGET` on the next turn. A Redis failure only means
    the blocks are not found (thinking is then disabled for that request), never a failed request."""

    def __init__(self, redis: Any, prefix: str = "", ttl_s: float = TTL_S) -> None:
        self._redis = redis
        self._prefix = f"{prefix}thinking:"
        self._ttl = max(int(ttl_s), 1)

    def _key(self, scope: str, call_id: str) -> str:
        return f"{self._prefix}{{{scope}}}:{call_id}"  # one hash slot per environment (Redis Cluster)

    async def put(self, scope: str, tool_call_ids: Sequence[str], blocks: Blocks) -> None:
        data = _encode(blocks)
        if data is None or not tool_call_ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for call_id in tool_call_ids:
                    pipe.set(self._key(scope, call_id), data, ex=self._ttl)
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - losing the blocks degrades the next turn, no more
            log.warning("could not keep thinking blocks in Redis: %s", exc)

    async def get(self, scope: str, tool_call_ids: Sequence[str]) -> list[Blocks | None]:
        if not tool_call_ids:
            return []
        try:
            values = await self._redis.mget([self._key(scope, c) for c in tool_call_ids])
        except Exception as exc:  # noqa: BLE001
            log.warning("could not read thinking blocks from Redis: %s", exc)
            return [None] * len(tool_call_ids)
        return [orjson.loads(v) if v else None for v in values]
