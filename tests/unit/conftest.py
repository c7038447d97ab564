"""Fixtures the engine tests share: a Harness on the fake upstream (behind the module's capacity gate
when the module defines a `gate` fixture), and the provider clients closed once a module is done (they
hold connections to the fake upstream)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.upstream import FakeUpstream
from tests.unit.test_engine import Harness
from vmx_app.gateway.adapters import close_all


@pytest.fixture(scope="module")
async def close_adapters() -> AsyncIterator[None]:
    yield
    await close_all()


@pytest.fixture
def h(fake_upstream: FakeUpstream, request: pytest.FixtureRequest) -> Iterator[Harness]:
    fake_upstream.reset()
    harness = Harness(fake_upstream)
    try:  # the capacity, budget, pool and batch tests each build their own gate
        gate = request.getfixturevalue("gate")
    except pytest.FixtureLookupError:
        pass
    else:
        harness.engine.deps.gate, harness.engine.deps.gate_active = gate, True
    yield harness
    fake_upstream.reset()
