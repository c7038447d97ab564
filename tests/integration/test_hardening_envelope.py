"""Hostile envelopes and bodies on the completion routes (issue 9): `vmx.metadata` must be a small
flat object, bodies nest at most VMX_MAX_JSON_DEPTH levels, and every answered request has its audit
row; errors come in each endpoint's own shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, audit_row, make_env

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "envelope")
    e.resource(e.slot("openai"), name="plain")
    e.resource(e.slot("anthropic"), name="claude")
    yield e


@pytest.fixture(scope="module")
def http(env: Env) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, headers=env.headers(), timeout=30) as c:
        yield c


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(("metadata", "why"), [
    (nested(3), "values are strings, numbers or booleans"),
    ({"team": {"name": "x"}}, "values are strings, numbers or booleans"),
    ({"tags": ["a", "b"]}, "values are strings, numbers or booleans"),
    ({f"k{i}": i for i in range(33)}, "at most 32 keys"),
    ({"blob": "x" * 4100}, "at most 4096 bytes"),
])
def test_bad_metadata_is_400_with_an_audit_row(http: httpx.Client, metadata: dict[str, Any], why: str) -> None:
    r = http.post("/chat/completions", json={"model": "plain", **CHAT, "vmx": {"metadata": metadata}})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == "vmx.metadata" and why in error["message"]
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 400 and row["request_metadata"] is None


def test_bad_metadata_on_anthropic_route_is_in_anthropic_shape(http: httpx.Client) -> None:
    r = http.post("/anthropic/v1/messages", json={"model": "claude", "max_tokens": 10, **CHAT,
                                                  "vmx": {"metadata": nested(3)}})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "vmx.metadata" in body["error"]["message"]
    assert audit_row(r.headers["x-vmx-request-id"])["status_code"] == 400


def test_flat_metadata_is_kept_on_the_row(http: httpx.Client) -> None:
    metadata = {f"k{i}": i for i in range(30)} | {"team": "search", "beta": True}
    r = http.post("/chat/completions", json={"model": "plain", **CHAT, "vmx": {"metadata": metadata}})
    assert r.status_code == 200, r.text
    assert audit_row(r.headers["x-vmx-request-id"])["request_metadata"] == metadata


@pytest.mark.parametrize("where", ["metadata", "body"])
def test_nesting_300_deep_is_400_with_an_audit_row(http: httpx.Client, where: str) -> None:
    extra = {"vmx": {"metadata": nested(300)}} if where == "metadata" else {"user_data": nested(300)}
    r = http.post("/chat/completions", json={"model": "plain", **CHAT, **extra})
    assert r.status_code == 400, r.text
    assert "nests deeper than 64" in r.json()["error"]["message"]
    assert audit_row(r.headers["x-vmx-request-id"])["status_code"] == 400


def test_model_outside_latin1_answers_with_encoded_headers(env: Env, http: httpx.Client) -> None:
    env.resource(env.slot("openai"), name="模型")
    env.resource(env.slot("anthropic"), name="模型-claude")
    r = http.post("/chat/completions", json={"model": "模型", **CHAT})
    assert r.status_code == 200, r.text
    assert r.headers["x-vmx-resource"] == quote("模型")
    assert audit_row(r.headers["x-vmx-request-id"])["resource_name"] == "模型"
    counted = http.post("/anthropic/v1/messages/count_tokens", json={"model": "模型-claude", **CHAT})
    assert counted.status_code == 200 and counted.headers["x-vmx-resource"] == quote("模型-claude")


@pytest.mark.parametrize("model", ["plain\r\nx-injected: 1", "plain\nx-injected: 1", "bad\x00model"])
def test_model_with_line_breaks_never_reaches_a_header(http: httpx.Client, model: str) -> None:
    r = http.post("/chat/completions", json={"model": model, **CHAT})
    assert r.status_code == 404, r.text
    assert "x-injected" not in r.headers
    assert r.headers["x-vmx-resource"] == quote(model, safe=" !#$&'()*+,/:;=?@[]~")
    assert http.post("/chat/completions", json={"model": "plain", **CHAT}).status_code == 200  # connection fine


@pytest.mark.parametrize(("method", "tail", "status"), [
    ("POST", "anthropic/v1/nothing", 404), ("GET", "anthropic/v1/messages", 405),
    ("POST", "anthropic/messages/count_tokens/x", 404), ("PUT", "anthropic/v1/messages/count_tokens", 405),
])
def test_anthropic_routes_answer_their_own_errors_in_anthropic_shape(env: Env, method: str, tail: str,
                                                                      status: int) -> None:
    r = httpx.request(method, f"{env.base_url}/{tail}", headers=env.headers(), json={}, timeout=30)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")


@pytest.mark.parametrize(("method", "tail", "status"), [("POST", "nothing", 404), ("GET", "chat/completions", 405)])
def test_openai_routes_answer_their_own_errors_in_openai_shape(env: Env, method: str, tail: str,
                                                                status: int) -> None:
    r = httpx.request(method, f"{env.base_url}/{tail}", headers=env.headers(), timeout=30)
    assert r.status_code == status, r.text
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(("tail", "anthropic"), [("anthropic/v1/messages", True), ("chat/completions", False)])
async def test_fast_path_internal_error_in_the_route_shape(monkeypatch: pytest.MonkeyPatch, tail: str,
                                                           anthropic: bool) -> None:
    """A bug outside the engine (here: the engine cannot be built) is a 500 in the route's shape."""
    from vmx_app.api.gateway_app import create_gateway_app
    from vmx_app.api.routers import completion

    async def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(completion, "ready_engine", broken)
    transport = httpx.ASGITransport(app=create_gateway_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        r = await client.post(f"/v1/completion/ws/env/{tail}", json={"model": "x"})
    assert r.status_code == 500
    body = r.json()
    if anthropic:
        assert body == {"type": "error", "error": {"type": "api_error", "message": "internal error"}}
    else:
        assert body["error"]["message"] == "internal error" and body["error"]["type"] == "server_error"


def test_openapi_declares_completion_path_params_and_error_shapes(app_url: str) -> None:
    doc = httpx.get(f"{app_url}/openapi.json", timeout=30).json()
    schemas = doc["components"]["schemas"]
    paths = {p: ops for p, ops in doc["paths"].items() if p.startswith("/v1/completion/")}
    assert len(paths) == 8
    for path, ops in paths.items():
        for op in ops.values():
            params = {(p["name"], p["in"]) for p in op.get("parameters", []) if p.get("required")}
            assert {("ws", "path"), ("env", "path")} <= params, path
            expected = "AnthropicError" if "/anthropic/" in path else "OpenAIError"
            for status in ("400", "401", "403", "404", "409", "413", "429"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref == f"#/components/schemas/{expected}", (path, status)
    assert set(schemas["OpenAIError"]["properties"]) == {"error"}
    assert set(schemas["AnthropicError"]["properties"]) == {"type", "error"}
    detail = schemas["OpenAIErrorDetail"]["properties"]
    assert set(detail) == {"message", "type", "param", "code"}


def test_nul_characters_still_get_an_answer_and_an_audit_row(http: httpx.Client) -> None:
    """PostgreSQL text and jsonb cannot hold NUL: the row is written with U+FFFD instead."""
    r = http.post("/chat/completions", json={"model": "plain", "messages": [{"role": "user", "content": "a\x00b"}],
                                             "vmx": {"metadata": {"team": "x\x00y"}, "correlationId": "c\x00d"}})
    assert r.status_code == 200, r.text
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 200 and row["request_metadata"]["team"] in ("x\x00y", "x\ufffdy")
    missing = http.post("/chat/completions", json={"model": "pl\x00ain", **CHAT})
    assert missing.status_code == 404, missing.text
    assert audit_row(missing.headers["x-vmx-request-id"])["status_code"] == 404
    bad_override = http.post("/chat/completions", json={"model": "plain", **CHAT, "vmx": {"resourceConfigOverrides": {
        "model": {"provider": "openai", "model": "m", "connectionName": "x\x00"}}}})
    assert bad_override.status_code == 400, bad_override.text
