"""A batch's results as JSON Lines (`GET /v1/completion-batch/{ws}/{env}/{id}/results`, the console's
download): one line per item in submission order with customId, status and the answer or the error;
guarded like every batch read (a console session with `completion-batch:get`, or the API key that
submitted it)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.conftest import login
from tests.fakes.upstream import FakeUpstream
from tests.fakes.upstream_behaviour import Behaviour
from tests.sdk.env import Env, check, make_env
from tests.support.batches import chat_items, wait_finished

PASSWORD = "Batch-results-123"


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "batch-results")


def _path(env: Env, *tail: str) -> str:
    return "/".join([f"/v1/completion-batch/{env.ws}/{env.env}", *tail])


def test_results_are_one_line_per_item_in_order(env: Env, fake_upstream: FakeUpstream) -> None:
    model = f"res-{secrets.token_hex(3)}"
    res = env.resource(env.slot("openai", model))
    fake_upstream.script(model, Behaviour(status=400, error_message="bad prompt", when="item 2"))
    items = chat_items(res["name"], 4)
    del items[3]["customId"]
    r = env.admin.post(_path(env), json={"items": items})
    assert r.status_code == 202, r.text
    wait_finished(env.admin, _path(env, r.json()["id"]))
    out = env.admin.get(_path(env, r.json()["id"], "results"))
    assert out.status_code == 200, out.text
    assert out.headers["content-type"].startswith("application/x-ndjson")
    assert out.headers["content-disposition"] == f'attachment; filename="batch-{r.json()["id"]}.jsonl"'
    lines = [orjson.loads(line) for line in out.text.splitlines()]
    assert [(x["customId"], x["index"], x["status"]) for x in lines] == [
        ("c-0", 0, "COMPLETED"), ("c-1", 1, "COMPLETED"), ("c-2", 2, "FAILED"), (None, 3, "COMPLETED")]
    assert lines[0]["response"]["choices"][0]["message"]["content"] and "error" not in lines[0]
    assert "bad prompt" in orjson.dumps(lines[2]["error"]).decode() and "response" not in lines[2]


def test_results_are_guarded_like_the_batch(env: Env, app_url: str) -> None:
    res = env.resource(env.slot("openai", "gpt-4o"))
    mine, _ = env.api_key()
    other, _ = env.api_key()
    with httpx.Client(base_url=app_url, headers=env.headers(mine), timeout=30) as c:
        batch = c.post(_path(env), json={"items": chat_items(res["name"], 2)}).json()
        wait_finished(c, _path(env, batch["id"]))
        assert len(c.get(_path(env, batch["id"], "results")).text.splitlines()) == 2
    with httpx.Client(base_url=app_url, headers=env.headers(other), timeout=30) as c:
        assert c.get(_path(env, batch["id"], "results")).status_code == 404  # another key's batch
    assert httpx.get(app_url + _path(env, batch["id"], "results")).status_code == 401
    assert env.admin.get(_path(env, str(uuid.uuid4()), "results")).status_code == 404
    # A console user who is not a member of the workspace sees nothing of it.
    email = f"b-{uuid.uuid4().hex[:10]}@results.test"
    check(env.admin.post("/v1/user", json={"email": email, "name": "B", "password": PASSWORD,
                                           "roles": ["power-user"]}))
    token = login(app_url, email, PASSWORD)
    outsider = httpx.get(app_url + _path(env, batch["id"], "results"), headers={"Authorization": f"Bearer {token}"})
    assert outsider.status_code == 404
    # The item route is still reached for item ids (the results route sits before it).
    items = env.admin.get(_path(env, batch["id"]), params={"includeItems": "true"}).json()["items"]
    assert env.admin.get(_path(env, batch["id"], items[0]["id"])).json()["customId"] == "c-0"
