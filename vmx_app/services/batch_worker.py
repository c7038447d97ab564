"""The batch worker of one process (issue 14): claims items from the durable queue, runs each through
the same engine entry point as a live request (routing, fallback, the capacity gate, budgets, audit with
`batchId`), and records the result under its lease.

Low priority: at most VMX_BATCH_WORKERS items at once per process, per AI connection only what
`BatchHeadroom` allows (it shrinks on 429s from the gate or the provider), and in the gate only
VMX_BATCH_HEADROOM_SHARE of each capacity limit plus the batch's own `capacity[]` (batch_share.py); the
provider's rate-limit headers pause a connection's batch work once the same share of its announced limit
is used (provider_headroom.py). An item the gate holds back goes back to the queue without counting as
an attempt (it never reached the provider); other retryable failures (429, 408, 5xx) are requeued with a
backoff until VMX_BATCH_MAX_ATTEMPTS.

Stopping (SIGTERM): no new item is claimed nor started (claimed ones still waiting go back to the queue
at once), and items at the provider finish and are recorded within the shutdown grace, so none is sent
twice. Leases of running items are renewed until then; only a process that died loses its items, which
are retaken after the visibility timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import TypeAdapter, ValidationError

from vmx_app import shutdown
from vmx_app.db import session_scope
from vmx_app.gateway.batch_headroom import BatchHeadroom, HeadroomClosed
from vmx_app.gateway.capacity.provider_headroom import provider_pause
from vmx_app.gateway.config import CapacityEntry
from vmx_app.gateway.engine import GatewayRequest, GatewayResponse
from vmx_app.models.completion_batch import BatchStatus, CompletionBatch
from vmx_app.services import batch_queue, config_cache
from vmx_app.services.batch_callbacks import CallbackSender
from vmx_app.services.batch_queue import ClaimedItem, ItemOutcome
from vmx_app.services.batches import batch_json, get_batch_row, item_json_by_id
from vmx_app.services.gateway_runtime import ready_engine
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.batch")
CANCEL_CHECK_S = 1.0  # an item waiting for room looks this often whether its batch was cancelled
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_CAPACITY = TypeAdapter(list[CapacityEntry])


@dataclass(frozen=True, slots=True)
class BatchCaller:
    """What an item needs from its batch: who submitted it, and where updates go."""

    workspace_id: str
    environment_id: str
    api_key_hash: str | None
    user_id: str | None
    callback: dict[str, Any] | None
    capacity: tuple[CapacityEntry, ...] = ()  # the batch's own limits, enforced by the gate


def outcome_of(resp: GatewayResponse) -> ItemOutcome:
    try:
        body = orjson.loads(resp.body) if resp.body else None
    except orjson.JSONDecodeError:
        body = {"raw": resp.body[:2000].decode("utf-8", "replace")}
    rec = resp.record
    ok = resp.status == 200
    cost = rec.cost.get("total", 0.0) if rec is not None and rec.cost else 0.0
    return ItemOutcome(
        status=BatchStatus.COMPLETED.value if ok else BatchStatus.FAILED.value, status_code=resp.status,
        result=body if ok else None, error=None if ok else body,
        request_id=resp.headers.get("x-vmx-request-id"),
        prompt_tokens=rec.prompt_tokens if rec else 0, completion_tokens=rec.completion_tokens if rec else 0,
        total_tokens=rec.total_tokens if rec else 0, cost=float(cost or 0.0))


def gate_throttled(resp: GatewayResponse) -> Literal["batch", "shared"] | None:
    """A hold-back of the capacity gate (the provider never saw the item), not a 429 of the provider or a
    budget: "batch" when the batch's own capacity held it (other batches on the connection are not held
    back), "shared" when a connection, resource, API-key or pool limit did."""
    hold = resp.hold
    if hold is None or hold.never_fits:
        return None  # never_fits: bigger than the whole limit, no wait helps, the item fails (see _record)
    return "batch" if hold.level == "batch" else "shared"


def _capacity(raw: Any) -> tuple[CapacityEntry, ...]:
    try:
        return tuple(_CAPACITY.validate_python(raw or []))
    except ValidationError:  # checked at submission: only a row edited by hand gets here
        log.warning("ignoring a batch's unreadable capacity %r", raw)
        return ()


def _retry_after(resp: GatewayResponse) -> float | None:
    value = resp.headers.get("retry-after") or resp.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class BatchWorker:
    def __init__(self, *, slots: int | None = None, headroom: BatchHeadroom | None = None,
                 sender: CallbackSender | None = None) -> None:
        settings = get_settings()
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.slots = settings.vmx_batch_workers if slots is None else slots
        self.headroom = headroom or BatchHeadroom(settings.vmx_batch_concurrency_per_connection)
        self.sender = sender or CallbackSender()
        self.lease_s = settings.batch_queue_visibility_timeout / 1000.0
        self.poll_s = settings.vmx_batch_poll_interval_seconds
        self.max_attempts = settings.vmx_batch_max_attempts
        self.share = settings.vmx_batch_headroom_share
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._callers: dict[uuid.UUID, BatchCaller] = {}
        self._stopping = False
        self._loop_done = asyncio.Event()
        self._heartbeat_task: asyncio.Task[None] | None = None

    def _begin_stop(self) -> None:
        self._stopping = True
        self.headroom.close()  # items still waiting for room go back to the queue

    async def run(self) -> None:
        self._heartbeat_task = asyncio.create_task(self._heartbeat(), name="vmx-batch-lease-heartbeat")
        try:
            # Claims come in chunks (a quarter of the slots at least): one claim per finished item
            # would cost a queue scan per item.
            chunk = max(1, self.slots // 4)
            while not self._stopping:
                if shutdown.is_draining():  # SIGTERM: nothing new from now on
                    self._begin_stop()
                    break
                free = self.slots - len(self._running)
                claimed: list[ClaimedItem] = []
                if free >= chunk or not self._running:
                    try:
                        claimed = await batch_queue.claim(self.owner, free, self.lease_s)
                    except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                        log.exception("batch claim failed")
                for item in claimed:
                    task = asyncio.create_task(self._run_item(item), name=f"vmx-batch-item-{item.id}")
                    self._running[item.id] = task
                    task.add_done_callback(lambda _t, i=item.id: self._running.pop(i, None))
                if claimed and len(self._running) < self.slots:
                    continue  # the queue has more: fill the free slots now
                if self._running:
                    await asyncio.wait(set(self._running.values()), timeout=self.poll_s,
                                       return_when=asyncio.FIRST_COMPLETED)
                else:
                    await asyncio.sleep(self.poll_s)
        finally:
            self._loop_done.set()
            if not self._stopping:  # cancelled without stop(): nothing is drained
                await self._end_heartbeat()

    async def _end_heartbeat(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop claiming and starting items; items at the provider get `grace_s` (by default what is left of
        the shutdown's grace once HTTP has drained) to finish and be recorded; only those still running
        then are cancelled (retaken after their lease)."""
        settings = get_settings()
        grace = (shutdown.grace_left(settings.vmx_shutdown_drain_delay_seconds, settings.vmx_shutdown_grace_seconds)
                 if grace_s is None else grace_s)
        deadline = asyncio.get_running_loop().time() + grace
        self._begin_stop()
        if self._heartbeat_task is not None:  # run() started: let a claim under way hand its items over
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._loop_done.wait(), timeout=max(0.1, grace))
        if self._running:
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            _, pending = await asyncio.wait(set(self._running.values()), timeout=left)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("batch worker stopped with %d item(s) unfinished: retaken after their lease",
                            len(pending))
        await self._end_heartbeat()
        await self.sender.close()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, self.lease_s / 3))
            with contextlib.suppress(Exception):
                await batch_queue.extend(self.owner, list(self._running), self.lease_s)

    async def _caller(self, batch_id: uuid.UUID) -> BatchCaller:
        caller = self._callers.get(batch_id)
        if caller is None:
            async with session_scope(readonly=True) as s:
                b = await s.get(CompletionBatch, batch_id)
            assert b is not None  # items cascade with their batch
            caller = self._callers[batch_id] = BatchCaller(
                str(b.workspace_id), str(b.environment_id), b.api_key_hash,
                str(b.user_id) if b.user_id else None, b.callback, _capacity(b.capacity))
        return caller

    async def _connection_key(self, caller: BatchCaller, item: ClaimedItem) -> str:
        resource = await config_cache.get_resource(caller.environment_id, item.resource_name)
        if resource is not None and resource.model.connection_id:
            return resource.model.connection_id
        return f"resource:{item.resource_name}"

    async def _run_item(self, item: ClaimedItem) -> None:
        try:
            caller = await self._caller(item.batch_id)
            key = await self._connection_key(caller, item)
            try:
                while not await self.headroom.acquire(key, within_s=CANCEL_CHECK_S):
                    if not await batch_queue.is_active(item.batch_id):
                        await batch_queue.requeue(item, 0.0)  # cancelled while it waited: recorded CANCELLED
                        return
            except HeadroomClosed:
                await batch_queue.requeue(item, 0.0, not_an_attempt=True)  # stopping: another process takes it
                return
            outcome_kind = "error"
            retry_after = None
            try:
                if self._stopping:
                    await batch_queue.requeue(item, 0.0, not_an_attempt=True)
                    return
                if not await batch_queue.is_active(item.batch_id):
                    await batch_queue.requeue(item, 0.0)  # the batch was cancelled: records it CANCELLED
                    return
                engine = await ready_engine()
                resp = await engine.complete(GatewayRequest(
                    workspace_id=caller.workspace_id, environment_id=caller.environment_id,
                    endpoint=item.endpoint,  # type: ignore[arg-type]
                    body=orjson.dumps(item.request), key_hash=caller.api_key_hash,
                    batch_id=str(item.batch_id), user_id=caller.user_id, batch_capacity=caller.capacity))
                throttled = gate_throttled(resp)
                outcome_kind = "throttled" if resp.status == 429 else ("ok" if resp.status == 200 else "error")
                if throttled == "batch":
                    outcome_kind = "error"  # the batch's own cap: the connection's headroom is untouched
                retry_after = _retry_after(resp)
                pause = provider_pause(resp.upstream_headers, self.share)
                if pause is not None:  # the provider's own limit: past the batch's share, live keeps the rest
                    self.headroom.pause(key, pause)
            finally:
                self.headroom.release(key, outcome_kind, retry_after)  # type: ignore[arg-type]
            if throttled is not None:  # held back by the gate: waits for headroom, never failed for it
                await batch_queue.requeue(item, retry_after if retry_after is not None else 1.0,
                                          not_an_attempt=True)
                return
            await self._record(item, caller, resp, retry_after)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the lease runs out and another attempt picks the item up
            log.exception("batch item %s failed unexpectedly", item.id)

    async def _record(self, item: ClaimedItem, caller: BatchCaller, resp: GatewayResponse,
                      retry_after: float | None) -> None:
        never = resp.hold is not None and resp.hold.never_fits
        if resp.status in RETRYABLE and item.attempts < self.max_attempts and not never:
            delay = retry_after if retry_after is not None else min(30.0, 0.5 * 2 ** (item.attempts - 1))
            await batch_queue.requeue(item, delay)
            return
        written, final = await batch_queue.finish(item, outcome_of(resp))
        if not written or caller.callback is None:
            return
        events = caller.callback.get("events", "all")
        if events in ("item_update", "all"):
            self.sender.send(caller.callback, {"event": "item_update",
                                               "item": await item_json_by_id(item.id)})
        if final is not None and events in ("batch_update", "all"):
            self.sender.send(caller.callback, {"event": "batch_update",
                                               "batch": batch_json(await get_batch_row(item.batch_id))})


_worker: BatchWorker | None = None


def start_batch_worker() -> asyncio.Task[None] | None:
    """The process's worker as a background task (lifecycle); None when VMX_BATCH_WORKERS=0."""
    global _worker
    if get_settings().vmx_batch_workers <= 0:
        return None
    _worker = BatchWorker()
    return asyncio.create_task(_worker.run(), name="vmx-batch-worker")


async def stop_batch_worker() -> None:
    global _worker
    if _worker is not None:
        await _worker.stop()
        _worker = None
