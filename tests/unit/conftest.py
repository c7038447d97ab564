"""Fixtures the engine tests share: a Harness on the fake upstream, and the provider clients closed
once a module is done (they hold connections to the fake upstream)."""

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
def h(fake_upstream: FakeUpstream) -> Iterator[Harness]:
    fake_upstream.reset()
    yield Harness(fake_upstream)
    fake_upstream.reset()
