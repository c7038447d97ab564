"""Batch completions over HTTP (issue 14): validation up front, async / sync / callback batches run by
the gateway's worker through the engine, results and audit rows, listing, item reads and cancel."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.fakes.upstream_behaviour import Behaviour
from tests.sdk.env import Env, _db, make_env
from tests.support.batches import audit_rows_of, chat_items, wait_finished


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "batch")


def _resource(env: Env, model: str) -> dict[str, Any]:
    return env.resource(env.slot("openai", model))


def _path(env: Env, *tail: str) -> str:
    return "/".join([f"/v1/completion-batch/{env.ws}/{env.env}", *tail]).rstrip("/")


def _client(env: Env, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=env.app_url, headers=env.headers(key), timeout=60)


def test_items_are_validated_up_front(env: Env) -> None:
    res = _resource(env, f"m-{secrets.token_hex(3)}")
    with _client(env) as c:
        bad_request = [*chat_items(res["name"], 2), {"resourceName": res["name"], "request": {"messages": "hi"}}]
        r = c.post(_path(env), json={"type": "async", "items": bad_request})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["details"]["field"] == "items[2].request.messages"
        r = c.post(_path(env), json={"items": [{"resourceName": "nope", "request": {"messages": []}}]})
        assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "items[0].resourceName"
        r = c.post(_path(env), json={"items": [{"resourceId": res["id"], "endpoint": "x", "request": {}}]})
        assert r.json()["error"]["details"]["field"] == "items[0].endpoint"
        r = c.post(_path(env), json={"type": "callback", "items": chat_items(res["name"], 1)})
        assert r.json()["error"]["details"]["field"] == "callback.url"
        r = c.post(_path(env), json={"items": chat_items(res["name"], 1), "capacity": [{"period": "year"}]})
        assert r.json()["error"]["details"]["field"].startswith("capacity[0].period")
        # Nothing of a refused batch was stored.
        assert c.get(_path(env)).json()["total"] == 0


def test_an_api_key_without_the_resource_is_refused(env: Env) -> None:
    allowed = _resource(env, "gpt-4o")
    other = _resource(env, "gpt-4o")
    key, _ = env.api_key(resources=[allowed["id"]])
    with _client(env, key) as c:
        items = [*chat_items(allowed["name"], 1), *chat_items(other["name"], 1)]
        r = c.post(_path(env), json={"items": items})
        assert r.status_code == 403 and r.json()["error"]["details"]["field"] == "items[1].resourceId"
    with httpx.Client(base_url=env.app_url, timeout=30) as anonymous:
        assert anonymous.post(_path(env), json={"items": items}).status_code == 401
        bad = anonymous.get(_path(env), headers={"Authorization": "Bearer not-a-key"})
        assert bad.status_code == 401


def test_async_batch_runs_every_item_once_with_results_and_audit(env: Env, fake_upstream: FakeUpstream) -> None:
    model = f"batch-{secrets.token_hex(3)}"
    res = _resource(env, model)
    items = chat_items(res["name"], 30)
    items[3]["endpoint"] = "anthropic"  # converted to the OpenAI wire like a live request
    items[3]["request"]["max_tokens"] = 50
    with _client(env) as c:
        r = c.post(_path(env), json={"type": "async", "items": items})
        assert r.status_code == 202, r.text
        batch = r.json()
        assert batch["status"] == "PENDING" and batch["totalItems"] == 30
        done = wait_finished(c, _path(env, batch["id"]), includeItems="true")
        assert done["status"] == "COMPLETED"
        assert done["completedItems"] == 30 and done["failedItems"] == 0
        got = done["items"]
        assert [i["customId"] for i in got] == [f"c-{i}" for i in range(30)]
        assert all(i["status"] == "COMPLETED" and i["attempts"] == 1 for i in got)
        assert got[0]["result"]["choices"][0]["message"]["content"] == f"Hello from {model}"
        assert got[3]["result"]["type"] == "message"  # the Anthropic shape the item asked for
        assert done["totalTokens"] == sum(i["totalTokens"] for i in got) > 0
        one = c.get(_path(env, batch["id"], got[5]["id"])).json()
        assert one["request"]["messages"][0]["content"] == "item 5" and one["requestId"] == got[5]["requestId"]
        assert c.get(_path(env, batch["id"], "not-an-id")).status_code == 404
        listed = c.get(_path(env)).json()["data"]
        assert listed[0]["id"] == batch["id"]
    assert len(fake_upstream.requests_for(model)) == 30
    rows = audit_rows_of(_db(), batch["id"], 30)
    assert len(rows) == 30
    assert {r["request_id"] for r in rows} == {i["requestId"] for i in got}


def test_sync_batch_streams_item_results_then_the_summary(env: Env) -> None:
    res = _resource(env, f"sync-{secrets.token_hex(3)}")
    events: list[tuple[str, Any]] = []
    with _client(env) as c, c.stream("POST", _path(env), json={"type": "sync",
                                                              "items": chat_items(res["name"], 8)}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, None if line == "data: [DONE]" else orjson.loads(line[6:])))
    assert [k for k, _ in events[:8]] == ["item"] * 8
    assert sorted(d["customId"] for _, d in events[:8]) == sorted(f"c-{i}" for i in range(8))
    assert events[8][0] == "batch" and events[8][1]["status"] == "COMPLETED"
    assert events[8][1]["completedItems"] == 8 and events[-1][1] is None


def test_console_session_can_submit_and_the_failure_is_recorded(env: Env, fake_upstream: FakeUpstream) -> None:
    model = f"fail-{secrets.token_hex(3)}"
    res = _resource(env, model)
    fake_upstream.set_default(model, Behaviour(status=400, error_message="bad prompt"))
    try:
        r = env.admin.post(_path(env), json={"items": chat_items(res["name"], 2)})
        assert r.status_code == 202, r.text
        done = wait_finished(env.admin, _path(env, r.json()["id"]), includeItems="true")
    finally:
        fake_upstream.set_default(model, None)
    assert done["status"] == "FAILED" and done["failedItems"] == 2 and done["userId"]
    assert all(i["statusCode"] == 400 and i["attempts"] == 1 for i in done["items"])  # not retryable
    assert "bad prompt" in orjson.dumps(done["items"][0]["error"]).decode()
    rows = audit_rows_of(_db(), done["id"], 2)
    assert len(rows) == 2 and {r["status_code"] for r in rows} == {400}


def test_retryable_failures_are_requeued(env: Env, fake_upstream: FakeUpstream) -> None:
    model = f"retry-{secrets.token_hex(3)}"
    res = _resource(env, model)
    fake_upstream.script(model, Behaviour(status=503), Behaviour(status=429, headers={"retry-after": "0"}))
    with _client(env) as c:
        r = c.post(_path(env), json={"items": chat_items(res["name"], 1)})
        done = wait_finished(c, _path(env, r.json()["id"]), includeItems="true")
    assert done["status"] == "COMPLETED"
    assert done["items"][0]["attempts"] == 3
    assert len(fake_upstream.requests_for(model)) == 3


def test_cancel_stops_new_items(env: Env, fake_upstream: FakeUpstream) -> None:
    model = f"slow-{secrets.token_hex(3)}"
    res = _resource(env, model)
    fake_upstream.set_default(model, Behaviour(delay_s=0.3))
    try:
        with _client(env) as c:
            batch = c.post(_path(env), json={"items": chat_items(res["name"], 300)}).json()
            while (completed := c.get(_path(env, batch["id"])).json()["completedItems"]) < 5:
                pass
            r = c.post(_path(env, batch["id"], "cancel"))
            assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
            done = wait_finished(c, _path(env, batch["id"]))
            # Items running at the cancel finish (at most the worker's 16 slots, plus those that finished
            # while the cancel was on its way); none starts after it.
            assert done["completedItems"] <= completed + 16 + 8
            assert len(fake_upstream.requests_for(model)) == done["completedItems"]
            assert done["completedItems"] + done["failedItems"] + done["cancelledItems"] == 300
            assert c.post(_path(env, batch["id"], "cancel")).json()["status"] == "CANCELLED"
    finally:
        fake_upstream.set_default(model, None)


def test_a_batch_body_may_exceed_the_management_limit(env: Env) -> None:
    """A batch is not a management body: it is bounded by VMX_BATCH_MAX_BODY_BYTES (256 MB), not the
    management API's 1 MiB, else a batch of thousands of requests could never be sent."""
    res = _resource(env, "gpt-4o-mini")
    items = chat_items(res["name"], 20)
    for item in items:
        item["request"]["messages"][0]["content"] += " " + "x" * 60_000
    body = orjson.dumps({"type": "async", "items": items})
    assert len(body) > 1024 * 1024
    with _client(env) as c:
        r = c.post(_path(env), content=body, headers={"content-type": "application/json"})
        assert r.status_code == 202, r.text
        assert wait_finished(c, _path(env, r.json()["id"]))["status"] == "COMPLETED"
