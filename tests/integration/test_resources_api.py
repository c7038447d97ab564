"""AI resources through the management API: the full shape, slot resolution and its error paths, ranges,
routing validation, duplicates, the connectionId filter and API key assignment."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest


@pytest.fixture
def setup(admin_client: httpx.Client) -> dict[str, Any]:
    """A fresh environment with an OpenAI, a Groq and an Anthropic connection."""
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    conns = {}
    for name, provider in (("openai-prod", "openai"), ("groq", "groq"), ("claude", "anthropic")):
        r = admin_client.post(f"/v1/ai-connection/{ws}/{env}", json={
            "name": name, "provider": provider, "config": {"apiKey": f"key-{name}"}})
        assert r.status_code == 201, r.text
        conns[name] = r.json()["id"]
    return {"ws": ws, "env": env, "base": f"/v1/ai-resource/{ws}/{env}", "conns": conns}


def _full(conns: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "support-bot",
        "description": "customer support",
        "model": {"provider": "openai", "model": "gpt-4o", "connectionName": "openai-prod", "maxRetries": 2,
                  "timeoutMs": 30000},
        "secondaryModels": [{"provider": "openai", "model": "gpt-4o-mini", "connectionId": conns["openai-prod"]}],
        "useFallback": True,
        "fallbackModels": [
            {"provider": "anthropic", "model": "claude-haiku-4-5", "connectionName": "claude", "timeoutMs": 5000},
            {"provider": "groq", "model": "llama-3.3-70b-versatile", "connectionName": "groq"},
        ],
        "routing": {"enabled": True, "conditions": [
            {"description": "small requests to Groq",
             "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100}],
             "then": {"provider": "groq", "model": "llama-3.1-8b-instant", "connectionName": "groq",
                      "traffic": 50}},
            {"description": "advanced", "expression": "requestTokens < 100 && errorRate(10, 'any') < 5",
             "then": {"provider": "anthropic", "model": "claude-sonnet-4", "connectionId": conns["claude"]}},
            {"description": "block huge", "if": [{"field": "requestTokens", "operator": "greaterThan",
                                                  "value": 100000}], "action": "block"},
        ]},
        "capacity": [{"period": "minute", "requests": 50, "tokens": 50000}],
        "enforceCapacity": True,
        "defaultArgs": {"temperature": 0.2, "reasoning_effort": "high"},
    }


def test_full_shape_round_trips_with_names_resolved_to_ids(admin_client: httpx.Client,
                                                           setup: dict[str, Any]) -> None:
    conns = setup["conns"]
    created = admin_client.post(setup["base"], json=_full(conns))
    assert created.status_code == 201, created.text
    res = created.json()
    assert res["id"] and res["name"] == "support-bot" and res["description"] == "customer support"
    assert res["model"] == {"provider": "openai", "model": "gpt-4o", "connectionId": conns["openai-prod"],
                            "maxRetries": 2, "timeoutMs": 30000}
    assert [s["connectionId"] for s in res["fallbackModels"]] == [conns["claude"], conns["groq"]]
    assert all("connectionName" not in s for s in res["fallbackModels"])
    assert res["secondaryModels"][0]["maxRetries"] == 0
    routing = res["routing"]
    assert routing["enabled"] is True and len(routing["conditions"]) == 3
    assert routing["conditions"][0]["if"][0] == {"field": "requestTokens", "operator": "lessThan", "value": 100}
    assert routing["conditions"][0]["then"]["connectionId"] == conns["groq"]
    assert routing["conditions"][0]["then"]["traffic"] == 50
    assert routing["conditions"][2]["action"] == "block"
    assert res["useFallback"] is True and res["enforceCapacity"] is True
    assert res["capacity"] == [{"period": "minute", "requests": 50, "tokens": 50000, "enabled": True}]
    assert res["defaultArgs"] == {"temperature": 0.2, "reasoning_effort": "high"}

    url = f"{setup['base']}/{res['id']}"
    assert admin_client.get(url).json() == res
    # The JSON view sends back exactly what it got: nothing changes but the update stamp.
    again = admin_client.put(url, json=res)
    assert again.status_code == 200, again.text
    assert {k: v for k, v in again.json().items() if k != "updatedAt"} == \
        {k: v for k, v in res.items() if k != "updatedAt"}

    patched = admin_client.put(url, json={"useFallback": False, "routing": None})
    assert patched.json()["useFallback"] is False and patched.json()["routing"] is None
    assert patched.json()["fallbackModels"] == res["fallbackModels"]  # left out = kept

    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda b: b["fallbackModels"][1].update(connectionName="nope"), "fallbackModels[1].connectionName"),
    (lambda b: b["model"].update(connectionName=None, connectionId=str(uuid.uuid4())), "model.connectionId"),
    (lambda b: b["secondaryModels"][0].update(connectionId=None), "secondaryModels[0]"),
    (lambda b: b["routing"]["conditions"][1]["then"].update(connectionId=None, connectionName="ghost"),
     "routing.conditions[1].then.connectionName"),
    (lambda b: b["fallbackModels"][0].update(provider="openai"), "fallbackModels[0].provider"),
    (lambda b: b["routing"]["conditions"][0]["if"][0].update(operator="matches", value="(["),
     "routing.conditions[0].if[0].value"),
    (lambda b: b["routing"]["conditions"][1].update(expression="requestTokens <"),
     "routing.conditions[1].expression"),
])
def test_slot_and_routing_errors_are_400_naming_the_path(admin_client: httpx.Client, setup: dict[str, Any],
                                                         mutate: Any, path: str) -> None:
    body = _full(setup["conns"])
    mutate(body)
    response = admin_client.post(setup["base"], json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{path}:")
    assert path in [d["field"] for d in error["details"]]


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b["model"].update(maxRetries=11), "model.maxRetries"),
    (lambda b: b["model"].update(maxRetries=-1), "model.maxRetries"),
    (lambda b: b["fallbackModels"][0].update(timeoutMs=99), "fallbackModels.0.timeoutMs"),
    (lambda b: b["fallbackModels"][0].update(timeoutMs=600001), "fallbackModels.0.timeoutMs"),
    (lambda b: b["routing"]["conditions"][0]["then"].update(traffic=101), "routing.conditions.0.then.traffic"),
    (lambda b: b.update(name="has space"), "name"),
    (lambda b: b["capacity"][0].update(period="year"), "capacity.0.period"),
])
def test_ranges_are_enforced(admin_client: httpx.Client, setup: dict[str, Any], mutate: Any, field: str) -> None:
    body = _full(setup["conns"])
    mutate(body)
    response = admin_client.post(setup["base"], json=body)
    assert response.status_code == 422, response.text
    assert any(d["field"].startswith(field) for d in response.json()["error"]["details"])


def test_boundary_values_are_accepted(admin_client: httpx.Client, setup: dict[str, Any]) -> None:
    body = _full(setup["conns"])
    body["model"].update(maxRetries=10, timeoutMs=600000)
    body["fallbackModels"][0].update(maxRetries=0, timeoutMs=100)
    assert admin_client.post(setup["base"], json=body).status_code == 201


def test_connection_id_wins_over_name(admin_client: httpx.Client, setup: dict[str, Any]) -> None:
    body = _full(setup["conns"])
    body["model"] = {"provider": "openai", "model": "gpt-4o", "connectionId": setup["conns"]["openai-prod"],
                     "connectionName": "does-not-exist"}
    response = admin_client.post(setup["base"], json=body)
    assert response.status_code == 201, response.text
    assert response.json()["model"]["connectionId"] == setup["conns"]["openai-prod"]


def test_duplicate_name_conflicts(admin_client: httpx.Client, setup: dict[str, Any]) -> None:
    assert admin_client.post(setup["base"], json=_full(setup["conns"])).status_code == 201
    dup = admin_client.post(setup["base"], json=_full(setup["conns"]))
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"
    other = admin_client.post(setup["base"], json={**_full(setup["conns"]), "name": "other"}).json()
    assert admin_client.put(f"{setup['base']}/{other['id']}", json={"name": "support-bot"}).status_code == 409


def test_list_filters_by_connection(admin_client: httpx.Client, setup: dict[str, Any]) -> None:
    conns = setup["conns"]
    admin_client.post(setup["base"], json=_full(conns))
    simple = {"name": "simple", "model": {"provider": "openai", "model": "gpt-4o", "connectionName": "openai-prod"}}
    assert admin_client.post(setup["base"], json=simple).status_code == 201
    everything = admin_client.get(setup["base"]).json()
    assert everything["total"] == 2 and [r["name"] for r in everything["data"]] == ["simple", "support-bot"]
    groq_users = admin_client.get(setup["base"], params={"connectionId": conns["groq"]}).json()
    assert [r["name"] for r in groq_users["data"]] == ["support-bot"]
    openai_users = admin_client.get(setup["base"], params={"connectionId": conns["openai-prod"]}).json()
    assert openai_users["total"] == 2
    paged = admin_client.get(setup["base"], params={"pageSize": 1, "pageIndex": 1}).json()
    assert paged["total"] == 2 and [r["name"] for r in paged["data"]] == ["support-bot"]


def test_assign_api_keys_appends_the_resource_to_those_keys(admin_client: httpx.Client,
                                                            setup: dict[str, Any]) -> None:
    keys_url = f"/v1/api-key/{setup['ws']}/{setup['env']}"
    key = admin_client.post(keys_url, json={"name": "app"})
    assert key.status_code == 201, key.text
    key_id = key.json()["id"]
    res = admin_client.post(setup["base"], json={**_full(setup["conns"]), "assignApiKeys": [key_id]})
    assert res.status_code == 201, res.text
    assert "assignApiKeys" not in res.json()  # write-only
    assert admin_client.get(f"{keys_url}/{key_id}").json()["resources"] == [res.json()["id"]]
    second = admin_client.post(setup["base"], json={
        "name": "second", "model": {"provider": "groq", "model": "llama-3.1-8b-instant", "connectionName": "groq"}})
    admin_client.put(f"{setup['base']}/{second.json()['id']}", json={"assignApiKeys": [key_id]})
    assert admin_client.get(f"{keys_url}/{key_id}").json()["resources"] == [res.json()["id"], second.json()["id"]]
    unknown = admin_client.post(setup["base"], json={**_full(setup["conns"]), "name": "x",
                                                     "assignApiKeys": [str(uuid.uuid4())]})
    assert unknown.status_code == 400 and unknown.json()["error"]["message"].startswith("assignApiKeys[0]")


def test_slots_only_resolve_connections_of_the_same_environment(admin_client: httpx.Client,
                                                                setup: dict[str, Any]) -> None:
    other_env = admin_client.post(f"/v1/environment/{setup['ws']}", json={"name": "dev"}).json()["id"]
    body = {"name": "x", "model": {"provider": "openai", "model": "gpt-4o",
                                   "connectionId": setup["conns"]["openai-prod"]}}
    response = admin_client.post(f"/v1/ai-resource/{setup['ws']}/{other_env}", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("model.connectionId:")
