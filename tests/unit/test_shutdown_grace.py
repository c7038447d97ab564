"""One grace period for the whole shutdown: the batch worker's items get what is left of
VMX_SHUTDOWN_GRACE_SECONDS once HTTP has drained, not a grace of their own after it (which made a
shutdown with items in flight take up to twice the grace, past a pod's termination period)."""

from __future__ import annotations

import asyncio
import contextlib
import types
import uuid
from collections.abc import Iterator

import pytest

from vmx_app import shutdown
from vmx_app.services.batch_worker import BatchWorker
from vmx_app.settings import get_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(shutdown, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    shutdown.reset()
    yield fake
    shutdown.reset()


def test_the_grace_counts_from_the_signal(clock: Clock) -> None:
    assert shutdown.grace_left(1.5, 20.0) == 20.0  # no signal: the whole grace
    shutdown.begin_draining()
    clock.now += 0.5
    assert shutdown.grace_left(1.5, 20.0) == 21.0  # the server stops accepting 1.5 s after the signal
    clock.now += 12.0
    assert shutdown.grace_left(1.5, 20.0) == 9.0
    shutdown.begin_draining()  # a second signal does not restart the clock
    clock.now += 30.0
    assert shutdown.grace_left(1.5, 20.0) == 0.0


async def test_items_in_flight_get_only_what_is_left_of_the_grace(clock: Clock) -> None:
    worker = BatchWorker(slots=1)
    item = asyncio.create_task(asyncio.sleep(60))  # an item still at the provider
    worker._running[uuid.uuid4()] = item
    shutdown.begin_draining()
    settings = get_settings()
    clock.now += settings.vmx_shutdown_drain_delay_seconds + settings.vmx_shutdown_grace_seconds + 1
    # HTTP took the whole grace: the item is cancelled now (retaken after its lease), not a grace later.
    await asyncio.wait_for(worker.stop(), timeout=5)
    with contextlib.suppress(asyncio.CancelledError):
        await item
    assert item.cancelled()
