"""Hostile management bodies and paging (issue 9): size (413, chunked too), JSON depth (400) before anything
is stored, a stored too-deep row that must not break lists, and paging parameters out of range."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import make_env
from vmx_app.db import session_scope
from vmx_app.models import AIResource

MiB = 1024 * 1024


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.fixture
def env(admin_client: httpx.Client) -> dict[str, str]:
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    r = admin_client.post(f"/v1/ai-connection/{ws}/{env}", json={
        "name": "openai", "provider": "openai", "config": {"apiKey": "sk-test"}})
    assert r.status_code == 201, r.text
    return {"ws": ws, "env": env, "base": f"/v1/ai-resource/{ws}/{env}"}


def resource(name: str, default_args: Any) -> dict[str, Any]:
    return {"name": name, "model": {"provider": "openai", "model": "gpt-4o", "connectionName": "openai"},
            "defaultArgs": default_args}


def names(admin_client: httpx.Client, env: dict[str, str]) -> list[str]:
    r = admin_client.get(env["base"])
    assert r.status_code == 200, r.text
    return [x["name"] for x in r.json()["data"]]


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


def test_default_args_300_deep_is_refused_before_storing(admin_client: httpx.Client, env: dict[str, str]) -> None:
    r = admin_client.post(env["base"], json=resource("deep", nested(300)))
    assert_error(r, 400, "invalid_request")
    assert "64" in r.json()["error"]["message"]
    assert names(admin_client, env) == []
    # 60 levels of defaultArgs inside the body's own two stay under the limit.
    assert admin_client.post(env["base"], json=resource("ok", nested(60))).status_code == 201


def test_deep_json_anywhere_in_a_management_body_is_400(admin_client: httpx.Client,
                                                        env: dict[str, str]) -> None:
    # Brackets inside strings do not count; real nesting does, wherever it is (here 100k levels of
    # arrays, which a recursive parser would not survive).
    text = json.dumps(resource("brackets", {"s": "[[[[{{{{" * 100}))
    assert admin_client.post(env["base"], content=text, headers={"content-type": "application/json"}
                             ).status_code == 201
    r = admin_client.post("/v1/workspace", content=b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                          headers={"content-type": "application/json"})
    assert_error(r, 400, "invalid_request")


def test_body_over_the_limit_is_413_with_or_without_content_length(admin_client: httpx.Client,
                                                                   env: dict[str, str]) -> None:
    big = resource("huge", {"blob": "x" * (50 * MiB)})
    r = admin_client.post(env["base"], json=big)
    assert_error(r, 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        payload = json.dumps(resource("huge-chunked", {"blob": "x" * (2 * MiB)})).encode()
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i:i + 64 * 1024]

    r = admin_client.post(env["base"], content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "payload_too_large")
    assert names(admin_client, env) == []
    # Just under 1 MiB is fine.
    r = admin_client.post(env["base"], json=resource("big-ok", {"blob": "x" * (MiB - 4096)}))
    assert r.status_code == 201, r.text[:300]


async def test_a_stored_too_deep_row_does_not_break_the_list(admin_client: httpx.Client,
                                                             env: dict[str, str]) -> None:
    """Rows written before the limit existed: the list still answers, the row shows `{}` defaultArgs."""
    created = admin_client.post(env["base"], json=resource("legacy", {"temperature": 0})).json()

    async with session_scope() as session:
        row = await session.get(AIResource, uuid.UUID(created["id"]))
        assert row is not None
        row.default_args = nested(300)
        session.add(row)
    r = admin_client.get(env["base"])
    assert r.status_code == 200, r.text[:300]
    assert [(x["name"], x["defaultArgs"]) for x in r.json()["data"]] == [("legacy", {})]
    one = admin_client.get(f"{env['base']}/{created['id']}")
    assert one.status_code == 200 and one.json()["defaultArgs"] == {}


@pytest.mark.parametrize("text", ["nul\u0000inside", "lone \ud83d surrogate", "\udfff"])
def test_text_no_database_can_store_is_400(admin_client: httpx.Client, env: dict[str, str], text: str) -> None:
    """PostgreSQL refuses NUL and unpaired surrogates: they must not reach it as a 500 (found by the fuzzer)."""
    bodies = [("/v1/model-pricing", {"provider": "openai", "model": text}),
              ("/v1/role", {"name": "r", "policy": {"statements": [
                  {"effect": "allow", "actions": [text], "resources": ["*"]}]}}),
              (env["base"], resource("fine", {text: 1}))]
    for path, body in bodies:
        r = admin_client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
        assert_error(r, 400, "invalid_request")
    assert_error(admin_client.get("/v1/model-pricing", params={"model": "a\u0000b"}), 400, "invalid_request")
    # Paired surrogates are one character (an emoji): fine.
    r = admin_client.post(env["base"], content=json.dumps(resource("emoji", {"s": "\U0001f600"})),
                          headers={"content-type": "application/json"})
    assert r.status_code == 201 and r.json()["defaultArgs"] == {"s": "\U0001f600"}


async def test_a_stored_too_deep_row_does_not_break_its_completions(app_url: str, admin_client: httpx.Client,
                                                                    fake_upstream: FakeUpstream) -> None:
    e = make_env(app_url, admin_client, fake_upstream, "deep")
    created = e.resource(e.slot("openai"), name="legacy", defaultArgs={"temperature": 0})
    async with session_scope() as session:
        row = await session.get(AIResource, uuid.UUID(created["id"]))
        assert row is not None
        row.default_args = nested(300)
        session.add(row)
    r = httpx.post(f"{e.base_url}/chat/completions", headers=e.headers(), timeout=30,
                   json={"model": "legacy", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text[:300]


def paged_lists(env: dict[str, str]) -> list[str]:
    ws, e = env["ws"], env["env"]
    return ["/v1/workspace", f"/v1/environment/{ws}", f"/v1/ai-connection/{ws}/{e}", f"/v1/ai-resource/{ws}/{e}",
            f"/v1/api-key/{ws}/{e}", "/v1/user", "/v1/role", "/v1/model-pricing"]


@pytest.mark.parametrize("query", ["pageIndex=1e20", "pageIndex=100000000000000000000", "pageIndex=-1",
                                   "pageSize=0", "pageSize=100000000000000000000", "pageSize=1e3",
                                   "pageIndex=9223372036854775807&pageSize=1000"])
def test_paging_out_of_range_is_422_in_the_error_shape(admin_client: httpx.Client, env: dict[str, str],
                                                        query: str) -> None:
    for path in paged_lists(env):
        r = admin_client.get(f"{path}?{query}")
        assert_error(r, 422, "validation_error")
        assert r.json()["error"]["details"][0]["field"] in ("pageIndex", "pageSize")


def test_largest_allowed_page_answers_an_empty_page(admin_client: httpx.Client, env: dict[str, str]) -> None:
    for path in paged_lists(env):
        r = admin_client.get(f"{path}?pageIndex=1000000&pageSize=1000")
        assert r.status_code == 200, (path, r.text[:200])
        assert r.json()["data"] == []
