"""AI connections through the management API: provider catalog, CRUD, validation, masking, test action,
allowedModels, delete protection."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

MASK = "********"


@pytest.fixture
def env(admin_client: httpx.Client) -> tuple[str, str]:
    """A fresh workspace and environment: (ws, env) ids."""
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"})
    assert ws.status_code == 201, ws.text
    env = admin_client.post(f"/v1/environment/{ws.json()['id']}", json={"name": "prod"})
    assert env.status_code == 201, env.text
    return ws.json()["id"], env.json()["id"]


def _base(env: tuple[str, str]) -> str:
    return f"/v1/ai-connection/{env[0]}/{env[1]}"


def _openai(name: str = "openai-prod", **extra: Any) -> dict[str, Any]:
    return {"name": name, "provider": "openai", "config": {"apiKey": "sk-live-abc123"}, **extra}


def _fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in (response.json()["error"].get("details") or [])]


def test_provider_catalog_lists_every_provider_with_schema_and_capabilities(admin_client: httpx.Client) -> None:
    response = admin_client.get("/v1/ai-provider")
    assert response.status_code == 200
    body = response.json()
    by_type = {p["type"]: p for p in body["data"]}
    assert set(by_type) == {"openai", "anthropic", "gemini", "groq", "perplexity", "bedrock", "bedrock-invoke",
                            "openai-compatible"}
    assert body["total"] == 8
    openai = by_type["openai"]
    assert openai["defaultBaseUrl"] == "https://api.openai.com/v1"
    assert openai["configSchema"]["properties"]["apiKey"]["format"] == "secret"
    assert openai["configSchema"]["required"] == ["apiKey"]
    assert openai["capabilities"]["streaming"] is True
    assert "openai-responses" in openai["capabilities"]["wireFormats"]
    bedrock = by_type["bedrock"]["configSchema"]
    assert {"region", "accessKeyId", "secretAccessKey", "iamRoleArn", "endpointUrl"} <= set(bedrock["properties"])
    assert bedrock["properties"]["secretAccessKey"]["format"] == "secret"
    assert bedrock["properties"]["region"].get("format") != "secret"
    assert by_type["openai-compatible"]["configSchema"]["required"] == ["baseUrl"]
    assert admin_client.get("/v1/ai-provider/anthropic").json()["type"] == "anthropic"
    assert admin_client.get("/v1/ai-provider/nope").status_code == 404


def test_provider_catalog_needs_login(app_url: str) -> None:
    assert httpx.get(f"{app_url}/v1/ai-provider").status_code == 401


def test_crud_masks_secrets_and_keeps_them_when_the_mask_is_sent_back(admin_client: httpx.Client,
                                                                      env: tuple[str, str]) -> None:
    created = admin_client.post(_base(env), json=_openai(
        description="main account", capacity=[{"period": "minute", "requests": 100, "tokens": 100000}],
        allowedModels=["gpt-4o", "gpt-4o-mini"], discoveredCapacity={"models": {"x": {}}}))
    assert created.status_code == 201, created.text
    conn = created.json()
    assert conn["id"] and conn["config"] == {"apiKey": MASK}
    assert conn["capacity"] == [{"period": "minute", "requests": 100, "tokens": 100000, "enabled": True}]
    assert conn["allowedModels"] == ["gpt-4o", "gpt-4o-mini"]
    assert conn["discoveredCapacity"] == {}  # read-only: ignored on input
    assert conn["credentialsStatus"] == "ok"
    assert "sk-live-abc123" not in created.text

    url = f"{_base(env)}/{conn['id']}"
    got = admin_client.get(url).json()
    assert got["config"] == {"apiKey": MASK} and got["name"] == "openai-prod"

    # The console's JSON view sends the whole object back: read-only fields are accepted and ignored.
    echoed = {**got, "description": "edited"}
    updated = admin_client.put(url, json=echoed)
    assert updated.status_code == 200, updated.text
    assert updated.json()["config"] == {"apiKey": MASK}
    # A new baseUrl needs the key itself (the mask would send the stored key there).
    moved = admin_client.put(url, json={"config": {"apiKey": "sk-live-abc123", "baseUrl": "https://proxy.example/v1"}})
    assert moved.status_code == 200 and moved.json()["config"] == {"apiKey": MASK, "baseUrl": "https://proxy.example/v1"}
    assert updated.json()["description"] == "edited"

    listed = admin_client.get(_base(env)).json()
    assert listed["total"] == 1 and listed["data"][0]["id"] == conn["id"]

    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404


def test_masked_secret_on_update_keeps_the_stored_value(admin_client: httpx.Client, env: tuple[str, str],
                                                        fake_upstream: Any) -> None:
    conn = admin_client.post(_base(env), json={"name": "compat", "provider": "openai-compatible",
                                               "config": {"baseUrl": fake_upstream.openai_url,
                                                          "apiKey": "secret-1"}}).json()
    url = f"{_base(env)}/{conn['id']}"
    assert admin_client.post(f"{url}/test").json()["ok"] is True
    # Masked value back: the stored key stays, so the upstream still gets a bearer token.
    admin_client.put(url, json={"config": {"baseUrl": fake_upstream.openai_url, "apiKey": MASK}})
    assert admin_client.post(f"{url}/test").json()["ok"] is True
    # Dropping the key really drops it: the fake upstream then answers 401.
    admin_client.put(url, json={"config": {"baseUrl": fake_upstream.openai_url}})
    result = admin_client.post(f"{url}/test").json()
    assert result["ok"] is False and result["error"]["status"] == 401


@pytest.mark.parametrize(("config", "field"), [
    ({}, "config.apiKey"),
    ({"apiKey": ""}, "config.apiKey"),
    ({"apiKey": "k", "organisation": "x"}, "config.organisation"),
    ({"apiKey": "k", "baseUrl": "ftp://x"}, "config.baseUrl"),
    ({"apiKey": 42}, "config.apiKey"),
    ({"apiKey": MASK}, "config.apiKey"),  # nothing stored to keep on create
    ({"apiKey": "k", "modelCapabilities": ["gpt-4o"]}, "config.modelCapabilities"),
    ({"apiKey": "k", "modelCapabilities": {"gpt-4o": {"reasoning": "maybe"}}}, "config.modelCapabilities.gpt-4o"),
    ({"apiKey": "k", "modelCapabilities": {"gpt-4o": {"vision": True}}}, "config.modelCapabilities.gpt-4o"),
])
def test_config_is_validated_against_the_provider_schema(admin_client: httpx.Client, env: tuple[str, str],
                                                         config: dict[str, Any], field: str) -> None:
    response = admin_client.post(_base(env), json={"name": "c", "provider": "openai", "config": config})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in _fields(response)
    assert response.json()["error"]["message"].startswith(field)


def test_model_capabilities_override_is_kept(admin_client: httpx.Client, env: tuple[str, str]) -> None:
    caps = {"my-finetune": {"reasoning": True, "structuredOutput": False}}
    created = admin_client.post(_base(env), json={"name": "caps", "provider": "openai-compatible", "config": {
        "baseUrl": "http://127.0.0.1:9/v1", "modelCapabilities": caps}})
    assert created.status_code == 201, created.text
    assert created.json()["config"]["modelCapabilities"] == caps


def test_bedrock_config_rules(admin_client: httpx.Client, env: tuple[str, str]) -> None:
    ok = admin_client.post(_base(env), json={"name": "br", "provider": "bedrock", "config": {
        "region": "us-east-1", "iamRoleArn": "arn:aws:iam::123456789012:role/vmx"}})
    assert ok.status_code == 201, ok.text
    keys = admin_client.post(_base(env), json={"name": "br2", "provider": "bedrock-invoke", "config": {
        "region": "us-east-1", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI"}})
    assert keys.status_code == 201 and keys.json()["config"] == {
        "region": "us-east-1", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": MASK}
    half = admin_client.post(_base(env), json={"name": "br3", "provider": "bedrock", "config": {
        "region": "us-east-1", "accessKeyId": "AKIAEXAMPLE"}})
    assert half.status_code == 400 and "config.secretAccessKey" in _fields(half)
    no_region = admin_client.post(_base(env), json={"name": "br4", "provider": "bedrock", "config": {}})
    assert no_region.status_code == 400 and "config.region" in _fields(no_region)


@pytest.mark.parametrize("body_patch", [
    {"capacity": [{"period": "fortnight", "requests": 1}]},
    {"capacity": [{"period": "minute", "requests": -1}]},
    {"capacity": [{"period": "minute", "tokens": "many"}]},
    {"provider": "azure"},
    {"bogus": True},
])
def test_shape_errors_are_422_naming_the_field(admin_client: httpx.Client, env: tuple[str, str],
                                               body_patch: dict[str, Any]) -> None:
    response = admin_client.post(_base(env), json={**_openai(), **body_patch})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert any(f.split(".")[0] in body_patch for f in _fields(response))


def test_duplicate_names_conflict(admin_client: httpx.Client, env: tuple[str, str]) -> None:
    assert admin_client.post(_base(env), json=_openai("dup")).status_code == 201
    assert admin_client.post(_base(env), json=_openai("dup")).status_code == 409
    other = admin_client.post(_base(env), json=_openai("other")).json()
    rename = admin_client.put(f"{_base(env)}/{other['id']}", json={"name": "dup"})
    assert rename.status_code == 409


def test_test_action_reports_models_or_the_provider_error(admin_client: httpx.Client, env: tuple[str, str],
                                                          fake_upstream: Any) -> None:
    good = admin_client.post(_base(env), json={"name": "fake", "provider": "openai", "config": {
        "apiKey": "sk-test", "baseUrl": fake_upstream.openai_url}}).json()
    result = admin_client.post(f"{_base(env)}/{good['id']}/test")
    assert result.status_code == 200
    assert result.json()["ok"] is True and "gpt-4o" in result.json()["models"]

    # An edited, unsaved config: the masked key stands for the stored one while the endpoint is the same.
    same = admin_client.post(f"{_base(env)}/{good['id']}/test", json={
        "config": {"apiKey": MASK, "baseUrl": fake_upstream.openai_url}})
    assert same.json()["ok"] is True
    edit = admin_client.post(f"{_base(env)}/{good['id']}/test", json={
        "config": {"apiKey": "sk-test", "baseUrl": fake_upstream.refused_url()}})
    assert edit.json()["ok"] is False and edit.json()["error"]["code"] == "network_error"

    unsaved = admin_client.post(f"{_base(env)}/test", json={"provider": "openai-compatible",
                                                            "config": {"baseUrl": fake_upstream.openai_url}})
    assert unsaved.json() == {"ok": False, "error": {"code": "provider_error", "status": 401,
                                                     "message": unsaved.json()["error"]["message"]}}
    assert "API key" in unsaved.json()["error"]["message"]


def test_deleting_a_used_connection_conflicts_and_lists_the_resources(admin_client: httpx.Client,
                                                                      env: tuple[str, str]) -> None:
    conn = admin_client.post(_base(env), json=_openai()).json()
    spare = admin_client.post(_base(env), json=_openai("spare")).json()
    slot = {"provider": "openai", "model": "gpt-4o", "connectionId": conn["id"]}
    res = admin_client.post(f"/v1/ai-resource/{env[0]}/{env[1]}", json={
        "name": "chat", "model": {**slot, "connectionId": spare["id"]}, "fallbackModels": [slot]})
    assert res.status_code == 201, res.text
    response = admin_client.delete(f"{_base(env)}/{conn['id']}")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["resources"] == [
        {"id": res.json()["id"], "name": "chat", "slots": ["fallbackModels[0]"]}]
    assert "chat" in response.json()["error"]["message"]
    assert admin_client.get(f"{_base(env)}/{conn['id']}").status_code == 200  # nothing deleted


def test_allowed_models_are_enforced_on_resources_and_connection_edits(admin_client: httpx.Client,
                                                                      env: tuple[str, str]) -> None:
    conn = admin_client.post(_base(env), json=_openai(allowedModels=["gpt-4o-mini"])).json()
    resources = f"/v1/ai-resource/{env[0]}/{env[1]}"
    bad = admin_client.post(resources, json={"name": "r", "model": {
        "provider": "openai", "model": "gpt-4o-mini", "connectionId": conn["id"]}, "secondaryModels": [
        {"provider": "openai", "model": "o3", "connectionName": "openai-prod"}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("secondaryModels[0].model:")
    good = admin_client.post(resources, json={"name": "r", "model": {
        "provider": "openai", "model": "gpt-4o-mini", "connectionId": conn["id"]}})
    assert good.status_code == 201
    # Narrowing allowedModels (or switching provider) under a resource that uses it would break it.
    narrowed = admin_client.put(f"{_base(env)}/{conn['id']}", json={"allowedModels": ["gpt-4o"]})
    assert narrowed.status_code == 409
    assert narrowed.json()["error"]["details"]["resources"][0]["slot"] == "model"
    switched = admin_client.put(f"{_base(env)}/{conn['id']}", json={
        "provider": "groq", "config": {"apiKey": "gsk"}})
    assert switched.status_code == 409
    widened = admin_client.put(f"{_base(env)}/{conn['id']}", json={"allowedModels": ["gpt-4o-mini", "gpt-4o"]})
    assert widened.status_code == 200


def test_changing_provider_needs_a_new_config_and_fresh_secrets(admin_client: httpx.Client,
                                                                env: tuple[str, str]) -> None:
    conn = admin_client.post(_base(env), json=_openai()).json()
    url = f"{_base(env)}/{conn['id']}"
    assert admin_client.put(url, json={"provider": "anthropic"}).status_code == 400
    masked = admin_client.put(url, json={"provider": "anthropic", "config": {"apiKey": MASK}})
    assert masked.status_code == 400 and "config.apiKey" in _fields(masked)
    moved = admin_client.put(url, json={"provider": "anthropic", "config": {"apiKey": "sk-ant"}})
    assert moved.status_code == 200 and moved.json()["provider"] == "anthropic"


def test_other_environments_and_unknown_ids_are_404(admin_client: httpx.Client, env: tuple[str, str]) -> None:
    conn = admin_client.post(_base(env), json=_openai()).json()
    other_env = admin_client.post(f"/v1/environment/{env[0]}", json={"name": "dev"}).json()["id"]
    assert admin_client.get(f"/v1/ai-connection/{env[0]}/{other_env}/{conn['id']}").status_code == 404
    assert admin_client.get(f"{_base(env)}/{uuid.uuid4()}").status_code == 404
    assert admin_client.get(f"/v1/ai-connection/{env[0]}/{uuid.uuid4()}").status_code == 404
