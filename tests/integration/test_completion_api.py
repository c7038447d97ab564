"""The completion API over HTTP: API-key rules, bad input answered in each endpoint's shape (never a
500), the body size limit, the model list and the audit row of a refused request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, audit_row, make_env

CHAT = {"model": "res", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "api")
    e.resource(e.slot("openai"), name="res")
    e.resource(e.slot("anthropic"), name="claude")
    yield e


@pytest.fixture(scope="module")
def http(env: Env) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, timeout=30) as c:
        yield c


def openai_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err  # type: ignore[no-any-return]


def anthropic_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    return body["error"]  # type: ignore[no-any-return]


def test_both_auth_headers_work(env: Env, http: httpx.Client) -> None:
    assert http.post("/chat/completions", json=CHAT, headers=env.headers()).status_code == 200
    r = http.post("/anthropic/v1/messages", json={**CHAT, "max_tokens": 5}, headers={"x-api-key": env.key})
    assert r.status_code == 200 and r.json()["type"] == "message"
    assert r.headers["x-vmx-request-id"] and r.headers["content-type"].startswith("application/json")


def test_missing_and_wrong_keys(env: Env, http: httpx.Client, app_url: str, admin_client: httpx.Client,
                                fake_upstream: FakeUpstream) -> None:
    assert openai_error(http.post("/chat/completions", json=CHAT), 401)["code"] == "invalid_api_key"
    anthropic_error(http.post("/anthropic/messages", json=CHAT, headers={"x-api-key": "vmx-nope"}), 401)
    other = make_env(app_url, admin_client, fake_upstream, "api-other")
    r = http.post("/chat/completions", json=CHAT, headers=other.headers())  # a key of another environment
    openai_error(r, 401)


def test_disabled_and_unassigned_keys(env: Env, http: httpx.Client) -> None:
    key, key_id = env.api_key()
    check = env.admin.put(f"/v1/api-key/{env.ws}/{env.env}/{key_id}", json={"enabled": False})
    assert check.status_code == 200, check.text
    r = http.post("/chat/completions", json=CHAT, headers=env.headers(key))
    assert "disabled" in openai_error(r, 401)["message"]
    assert audit_row(r.headers["x-vmx-request-id"])["status_code"] == 401
    claude = env.admin.get(f"/v1/ai-resource/{env.ws}/{env.env}").json()["data"]
    claude_id = next(x["id"] for x in claude if x["name"] == "claude")
    scoped, _ = env.api_key(resources=[claude_id])
    r = http.post("/chat/completions", json=CHAT, headers=env.headers(scoped))
    assert openai_error(r, 403)["code"] == "api_key_resource_not_authorized"
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 403 and row["resource_name"] == "res" and row["error_type"]
    ok = http.post("/chat/completions", json={**CHAT, "model": "claude"}, headers=env.headers(scoped))
    assert ok.status_code == 200


@pytest.mark.parametrize("path", ["/chat/completions", "/responses", "/anthropic/v1/messages"])
@pytest.mark.parametrize(("content", "status"), [
    (b"{oops", 400),
    (b'"a string"', 400),
    (orjson.dumps({"messages": [{"role": "user", "content": "x"}], "input": "x"}), 400),
    (orjson.dumps({"model": ["res"], "messages": [], "input": "x"}), 400),
    (orjson.dumps({"model": "res", "messages": 5, "input": 5}), 400),
    (orjson.dumps({"model": "res", "messages": [], "input": "x", "stream": "please"}), 400),
    (orjson.dumps({"model": "res", "messages": [], "input": "x", "max_tokens": 1.5}), 400),
    (orjson.dumps({"model": "unknown", "messages": [{"role": "user", "content": "x"}], "input": "x"}), 404),
    (orjson.dumps({"model": "res", "messages": [{"role": "user", "content": "x"}], "input": "x",
                   "vmx": {"timeoutMs": -1}}), 400),
    (orjson.dumps({"model": "res", "messages": [{"role": "user", "content": "x"}], "input": "x",
                   "vmx": {"resourceConfigOverrides": {"model": {"provider": "openai", "model": "m",
                                                                 "connectionName": "nope"}}}}), 400),
])
def test_bad_input(env: Env, http: httpx.Client, path: str, content: bytes, status: int) -> None:
    r = http.post(path, content=content, headers={**env.headers(), "content-type": "application/json"})
    if "anthropic" in path:
        anthropic_error(r, status)
    else:
        openai_error(r, status)


def test_body_over_five_megabytes_is_413(env: Env, http: httpx.Client) -> None:
    big = {"model": "res", "messages": [{"role": "user", "content": "x" * (5 * 1024 * 1024 + 10)}]}
    r = http.post("/chat/completions", json=big, headers=env.headers())
    assert openai_error(r, 413)["type"] == "request_too_large"
    r = http.post("/anthropic/v1/messages", json=big, headers=env.headers())
    assert anthropic_error(r, 413)["type"] == "request_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield b'{"model": "res", "messages": [{"role": "user", "content": "'
        for _ in range(6):
            yield b"y" * (1024 * 1024)
        yield b'"}]}'

    r = http.post("/responses", content=chunks(), headers=env.headers())
    openai_error(r, 413)


def test_models_endpoint(env: Env, http: httpx.Client) -> None:
    r = http.get("/models", headers=env.headers())
    assert r.status_code == 200 and {"res", "claude"} <= {m["id"] for m in r.json()["data"]}
    assert http.get("/models").status_code == 401
    r = http.get("/anthropic/v1/models", headers={"x-api-key": env.key})
    assert r.status_code == 200 and {m["type"] for m in r.json()["data"]} == {"model"}


def test_streaming_headers(env: Env, http: httpx.Client) -> None:
    with http.stream("POST", "/chat/completions", json={**CHAT, "stream": True}, headers=env.headers()) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-vmx-model"] == "gpt-4o" and r.headers["x-vmx-provider"] == "openai"
        body = r.read()
    assert body.rstrip().endswith(b"data: [DONE]")
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["stream"] and row["completion_tokens"] == 3 and row["time_to_first_token_ms"] is not None


def test_client_leaving_mid_stream_is_audited_as_499(env: Env, fake_upstream: FakeUpstream) -> None:
    from tests.fakes.upstream import Behaviour

    env.resource(env.slot("openai", "slow-stream-model"), name="slow-stream")
    # 60 words 0.2 s apart: 12 s to the natural end.
    fake_upstream.script("slow-stream-model", Behaviour(text=" ".join(["w"] * 60), chunk_delay_s=0.2))
    # A client of its own, closed after the first event: the connection really goes away.
    with httpx.Client(base_url=env.base_url, timeout=30) as client, client.stream(
            "POST", "/chat/completions", json={**CHAT, "model": "slow-stream", "stream": True},
            headers=env.headers()) as r:
        assert r.status_code == 200
        first = next(r.iter_raw())
        assert first.startswith(b"data: ")
        request_id = r.headers["x-vmx-request-id"]
    row = audit_row(request_id, timeout_s=5.0)  # long before the stream would have ended
    assert row["status_code"] == 499 and row["stream"] and row["error_type"]

    # The gateway keeps serving streams to the end afterwards.
    with httpx.Client(base_url=env.base_url, timeout=30) as client:
        body = client.post("/chat/completions", json={**CHAT, "stream": True}, headers=env.headers()).content
    assert body.rstrip().endswith(b"data: [DONE]")
