"""Batch completions across gateway processes (issue 14): 2,000 items worked by two processes from one
queue run exactly once; a restart (SIGTERM) mid-batch resumes it with no item sent twice; a process
killed mid-batch loses its leased items only until the visibility timeout, and another process finishes
them."""

from __future__ import annotations

import os
import secrets
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import login
from tests.fakes.upstream import FakeUpstream
from tests.fakes.upstream_behaviour import Behaviour
from tests.sdk.env import Env, _db, make_env
from tests.support import profile
from tests.support.batches import audit_rows_of, chat_items, wait_finished
from tests.support.servers import free_port, gateway_command, running


def _env_vars(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    if "REDIS_URL" not in env:  # embedded run: the processes share a Redis of their own
        env["REDIS_URL"] = profile.REDIS_URL
        env["REDIS_KEY_PREFIX"] = f"vmx-test-batch-{uuid.uuid4().hex[:8]}:"
    env.update(extra)
    return env


class Gateways:
    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs, self.env, self.n = logs, env, 0

    def start(self, stack: ExitStack) -> tuple[str, Any]:
        self.n += 1
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = stack.enter_context(running(gateway_command(port), ready_url=f"{url}/readyz", env=self.env,
                                           log=self.logs / f"gw{self.n}.log"))
        return url, proc


@pytest.fixture(scope="module")
def setup(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "batch-mp")


def _submit(url: str, env: Env, resource: str, n: int) -> str:
    with httpx.Client(base_url=url, headers=env.headers(), timeout=60) as c:
        r = c.post(f"/v1/completion-batch/{env.ws}/{env.env}", json={"type": "async",
                                                                     "items": chat_items(resource, n)})
        assert r.status_code == 202, r.text
        return str(r.json()["id"])


def _finished(url: str, env: Env, batch_id: str) -> dict[str, Any]:
    token = login(url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        return wait_finished(c, f"/v1/completion-batch/{env.ws}/{env.env}/{batch_id}", timeout_s=50,
                             includeItems="true")


def _progress(url: str, env: Env, batch_id: str) -> int:
    with httpx.Client(base_url=url, headers=env.headers(), timeout=30) as c:
        return int(c.get(f"/v1/completion-batch/{env.ws}/{env.env}/{batch_id}").json()["completedItems"])


def _upstream_prompts(fake: FakeUpstream, model: str) -> Counter[str]:
    return Counter(r.json["messages"][0]["content"] for r in fake.requests_for(model))


def test_two_processes_run_2000_items_exactly_once(setup: Env, fake_upstream: FakeUpstream,
                                                  tmp_path: Path) -> None:
    model = f"mp-{secrets.token_hex(3)}"
    res = setup.resource(setup.slot("openai", model))
    gateways = Gateways(tmp_path, _env_vars(VMX_BATCH_WORKERS="24", VMX_BATCH_CONCURRENCY_PER_CONNECTION="24"))
    with ExitStack() as stack:
        a, _ = gateways.start(stack)
        gateways.start(stack)
        batch_id = _submit(a, setup, res["name"], 2000)
        done = _finished(a, setup, batch_id)
    items = done["items"]
    assert done["status"] == "COMPLETED" and done["completedItems"] == 2000
    assert all(i["status"] == "COMPLETED" and i["attempts"] == 1 for i in items)
    assert len({i["worker"] for i in items}) >= 2  # both processes (the fixture's app has its own worker too)
    prompts = _upstream_prompts(fake_upstream, model)
    assert len(prompts) == 2000 and set(prompts.values()) == {1}  # each item reached the provider once
    rows = audit_rows_of(_db(), batch_id, 2000)
    assert len(rows) == 2000
    assert {r["request_id"] for r in rows} == {i["requestId"] for i in items}
    assert {r["status_code"] for r in rows} == {200}


def test_restart_mid_batch_completes_with_no_duplicate(setup: Env, fake_upstream: FakeUpstream,
                                                       tmp_path: Path) -> None:
    model = f"restart-{secrets.token_hex(3)}"
    n = 80
    res = setup.resource(setup.slot("openai", model))
    fake_upstream.set_default(model, Behaviour(delay_s=2.0))
    # 16 items claimed, 4 at the provider at once: at the stop 4 are in flight (2 s each) and 12 wait for room.
    # A short lease retakes at once whatever the stopped process dropped, so a resend would show.
    gateways = Gateways(tmp_path, _env_vars(VMX_BATCH_WORKERS="16", VMX_BATCH_CONCURRENCY_PER_CONNECTION="4",
                                            BATCH_QUEUE_VISIBILITY_TIMEOUT="3000"))
    try:
        with ExitStack() as first:
            url, _ = gateways.start(first)
            batch_id = _submit(url, setup, res["name"], n)
            while _progress(url, setup, batch_id) < 8:
                time.sleep(0.05)
        # SIGTERM: the process stops claiming, hands back what waits, lets what is at the provider finish.
        with ExitStack() as second:
            url, _ = gateways.start(second)
            done = _finished(url, setup, batch_id)
    finally:
        fake_upstream.set_default(model, None)
    assert done["status"] == "COMPLETED" and done["completedItems"] == n
    assert len({i["worker"] for i in done["items"]}) >= 2
    prompts = _upstream_prompts(fake_upstream, model)
    # Every item reached the provider exactly once: at SIGTERM the worker started nothing new, handed its
    # waiting items back (their attempt given back) and let the ones at the provider finish and be recorded.
    assert len(prompts) == n and set(prompts.values()) == {1}
    assert all(i["attempts"] == 1 for i in done["items"])
    rows = audit_rows_of(_db(), batch_id, n)
    assert sorted(r["request_id"] for r in rows) == sorted(i["requestId"] for i in done["items"])


def test_items_of_a_killed_process_are_retaken_after_the_visibility_timeout(
        setup: Env, fake_upstream: FakeUpstream, tmp_path: Path) -> None:
    model = f"killed-{secrets.token_hex(3)}"
    res = setup.resource(setup.slot("openai", model))
    fake_upstream.set_default(model, Behaviour(delay_s=0.3))
    # The fixture's app process runs batch work too: stop it from taking these items by making it wait.
    gateways = Gateways(tmp_path, _env_vars(VMX_BATCH_WORKERS="8", BATCH_QUEUE_VISIBILITY_TIMEOUT="3000"))
    try:
        with ExitStack() as stack:
            url, victim = gateways.start(stack)
            batch_id = _submit(url, setup, res["name"], 120)
            while _progress(url, setup, batch_id) < 10:
                time.sleep(0.05)
            os.killpg(victim.pid, signal.SIGKILL)  # dies holding leased items
            victim.wait()
            survivor, _ = gateways.start(stack)
            done = _finished(survivor, setup, batch_id)
    finally:
        fake_upstream.set_default(model, None)
    items = done["items"]
    assert done["status"] == "COMPLETED" and done["completedItems"] == 120
    assert all(i["status"] == "COMPLETED" for i in items)
    assert any(i["attempts"] == 2 for i in items)  # leased by the dead process, retaken after the timeout
    prompts = _upstream_prompts(fake_upstream, model)
    assert set(prompts) == {f"item {i}" for i in range(120)}
    # Only items the dead process had taken (some of them in flight) reached the provider twice.
    retaken = {f"item {i['index']}" for i in items if i["attempts"] == 2}
    assert {p for p, n in prompts.items() if n > 1} <= retaken
