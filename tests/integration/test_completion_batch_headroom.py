"""Batch work at a lower priority over HTTP (issue 14): live requests at a steady rate keep their capacity
while a batch floods the same connection (the batch is throttled at VMX_BATCH_HEADROOM_SHARE, 0.5 here,
and still completes), and a batch's own `capacity[]` lets exactly N items through per window."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, _db, connection_config, make_env
from tests.support.batches import audit_rows_of, chat_items, wait_finished


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "batch-headroom")


def _path(env: Env, *tail: str) -> str:
    return "/".join([f"/v1/completion-batch/{env.ws}/{env.env}", *tail]).rstrip("/")


def _limited_resource(env: Env, model: str, rpm: int) -> dict[str, Any]:
    conn = env.connection(f"limited-{secrets.token_hex(3)}", "openai", connection_config("openai", env.fake),
                          capacity=[{"period": "minute", "requests": rpm}])
    return env.resource({"provider": "openai", "model": model, "connectionId": conn})


def test_live_requests_keep_their_capacity_while_a_batch_floods(env: Env, fake_upstream: FakeUpstream) -> None:
    # 60 requests a minute on the connection: the batch may use 30 (with live usage counted), live has the
    # rest. Live sends one request every 2 s (at most 30 a minute): none of them may be refused.
    model = f"flood-{secrets.token_hex(3)}"
    res = _limited_resource(env, model, 60)
    if time.time() % 60 > 40:  # the batch must meet its share within the first window: not at its very end
        time.sleep(61 - time.time() % 60)
    live_statuses: list[int] = []
    stop = threading.Event()

    def live() -> None:
        with httpx.Client(base_url=env.base_url, headers=env.headers(), timeout=30) as c:
            while not stop.is_set():
                r = c.post("/chat/completions", json={"model": res["name"],
                                                       "messages": [{"role": "user", "content": "live"}]})
                live_statuses.append(r.status_code)
                stop.wait(2.0)

    thread = threading.Thread(target=live, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        with httpx.Client(base_url=env.app_url, headers=env.headers(), timeout=60) as c:
            r = c.post(_path(env), json={"items": chat_items(res["name"], 45)})
            assert r.status_code == 202, r.text
            # 45 items do not fit in one window's share: the batch waits for the next minute.
            done = wait_finished(c, _path(env, r.json()["id"]), timeout_s=150, includeItems="true")
    finally:
        stop.set()
        thread.join(10)
    assert live_statuses and set(live_statuses) == {200}, live_statuses
    assert done["status"] == "COMPLETED" and done["completedItems"] == 45
    # Held back by the gate, never failed for it nor charged an attempt; each item reached the provider once.
    assert all(i["status"] == "COMPLETED" and i["attempts"] == 1 for i in done["items"])
    # The audit writer flushes in batches: wait for the 45 answers (the refusals were written before them).
    deadline = time.monotonic() + 10
    while (statuses := [r["status_code"] for r in audit_rows_of(_db(), done["id"], 46)]).count(200) < 45:
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)
    assert statuses.count(200) == 45 and 429 in statuses  # the batch was throttled
    prompts = [r.json["messages"][0]["content"] for r in fake_upstream.requests_for(model)]
    assert sorted(p for p in prompts if p != "live") == sorted(f"item {i}" for i in range(45))
    assert prompts.count("live") == len(live_statuses)


def test_a_batch_capacity_lets_exactly_n_items_through_per_window(env: Env, fake_upstream: FakeUpstream) -> None:
    model = f"own-cap-{secrets.token_hex(3)}"
    res = env.resource(env.slot("openai", model))  # the connection and resource have no limit
    if time.time() % 60 > 45:  # the count below must not straddle a minute boundary
        time.sleep(61 - time.time() % 60)
    with httpx.Client(base_url=env.app_url, headers=env.headers(), timeout=60) as c:
        r = c.post(_path(env), json={"items": chat_items(res["name"], 12),
                                     "capacity": [{"period": "minute", "requests": 4}]})
        assert r.status_code == 202, r.text
        batch = r.json()
        assert batch["capacity"] == [{"period": "minute", "requests": 4, "enabled": True}]
        deadline = time.monotonic() + 10
        while c.get(_path(env, batch["id"])).json()["completedItems"] < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.0)  # room for a fifth item, if the cap leaked
        progress = c.get(_path(env, batch["id"])).json()
        assert progress["completedItems"] == 4 and progress["failedItems"] == 0
        assert len(fake_upstream.requests_for(model)) == 4
        assert c.post(_path(env, batch["id"], "cancel")).status_code == 200
        done = wait_finished(c, _path(env, batch["id"]))
    assert done["completedItems"] == 4 and done["cancelledItems"] == 8
