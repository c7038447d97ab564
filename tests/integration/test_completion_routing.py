"""Routing, secondary models and merge precedence through the API, with resources configured as the
seeds (002, 004) write them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, audit_row, make_env

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "routing")


@pytest.fixture(scope="module")
def http(env: Env) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, headers=env.headers(), timeout=30) as c:
        yield c


def chat(model: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def routed_model(http: httpx.Client, body: dict[str, Any]) -> str:
    r = http.post("/chat/completions", json=body)
    assert r.status_code == 200, r.text
    return r.headers["x-vmx-model"]


def test_seed_examples(env: Env, http: httpx.Client) -> None:
    groq = env.slot("groq", "llama-3.1-70b-versatile")
    env.resource(env.slot("openai"), name="seed-tokens", routing={"enabled": True, "conditions": [
        {"description": "Use Groq for small requests",
         "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100}], "then": groq}]})
    assert routed_model(http, chat("seed-tokens")) == "llama-3.1-70b-versatile"
    assert routed_model(http, chat("seed-tokens", "word " * 200)) == "gpt-4o"

    env.resource(env.slot("anthropic"), name="seed-tools", routing={"enabled": True, "conditions": [
        {"description": "Use GPT-4 for requests with tools",
         "if": [{"field": "hasTools", "operator": "equals", "value": True}], "then": env.slot("openai", "gpt-4o")}]})
    assert routed_model(http, chat("seed-tools", tools=TOOLS)) == "gpt-4o"
    assert routed_model(http, chat("seed-tools")) == "claude-sonnet-4-5"

    env.resource(env.slot("openai"), name="seed-advanced", routing={"enabled": True, "mode": "advanced",
                                                                      "conditions": [
        {"description": "Complex routing logic", "expression": "requestTokens < 100 && errorRate(10, 'any') < 5\n",
         "then": {**groq, "traffic": 50}}]})
    counts = Counter(routed_model(http, chat("seed-advanced")) for _ in range(200))
    assert 60 <= counts["llama-3.1-70b-versatile"] <= 140 and counts["gpt-4o"] == 200 - counts[
        "llama-3.1-70b-versatile"]


def test_seed_error_rate_example_switches_after_failures(env: Env, http: httpx.Client,
                                                         fake_upstream: FakeUpstream) -> None:
    env.resource(env.slot("openai", "er-primary"), name="seed-errors", useFallback=True,
                 fallbackModels=[env.slot("openai", "gpt-4o-mini")], routing={"enabled": True, "conditions": [
                     {"description": "Switch to Anthropic if error rate is high",
                      "if": [{"field": "errorRate", "operator": "greaterThan", "value": 10, "window": 10}],
                      "then": env.slot("anthropic", "claude-3-5-sonnet-20241022")}]})
    assert routed_model(http, chat("seed-errors")) == "er-primary"
    fake_upstream.script("er-primary", Behaviour(status=500))
    assert routed_model(http, chat("seed-errors")) == "gpt-4o-mini"  # failed, fell back; 50 % errors now
    r = http.post("/chat/completions", json=chat("seed-errors"))
    assert r.headers["x-vmx-model"] == "claude-3-5-sonnet-20241022"
    assert r.headers["x-vmx-event-0-type"] == "routing"
    assert r.headers["x-vmx-event-0-routing-original-model"] == "er-primary"
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["events"][0]["type"] == "routing" and row["events"][0]["routedModel"] == "claude-3-5-sonnet-20241022"


def test_block_action(env: Env, http: httpx.Client) -> None:
    env.resource(env.slot("openai"), name="guarded", routing={"enabled": True, "conditions": [
        {"description": "no credentials in prompts", "action": "block",
         "if": [{"field": "allMessagesContent", "operator": "matches", "value": "(?i)api[_ ]?key"}]}]})
    r = http.post("/chat/completions", json=chat("guarded", "here is my API_KEY"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "blocked_by_routing_condition"
    r = http.post("/anthropic/v1/messages", json=chat("guarded", "my api key", max_tokens=5))
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert routed_model(http, chat("guarded", "hello")) == "gpt-4o"


def test_secondary_models(env: Env, http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    env.resource(env.slot("openai"), name="pinned",
                 secondaryModels=[env.slot("anthropic", "sec-zero"), env.slot("bedrock", "amazon.nova-pro-v1:0")],
                 useFallback=True, fallbackModels=[env.slot("groq")],
                 routing={"enabled": True, "conditions": [
                     {"if": [{"field": "messagesCount", "operator": "greaterThanOrEqual", "value": 1}],
                      "then": env.slot("openai", "gpt-4o-mini")}]})
    assert routed_model(http, chat("pinned")) == "gpt-4o-mini"
    assert routed_model(http, chat("pinned", vmx={"secondaryModelIndex": 0})) == "sec-zero"
    assert routed_model(http, chat("pinned", vmx={"secondaryModelIndex": 1})) == "amazon.nova-pro-v1:0"
    fake_upstream.script("sec-zero", Behaviour(status=502))
    assert routed_model(http, chat("pinned", vmx={"secondaryModelIndex": 0})) == "llama-3.3-70b-versatile"
    r = http.post("/chat/completions", json=chat("pinned", vmx={"secondaryModelIndex": 2}))
    assert r.status_code == 400 and r.json()["error"]["param"] == "vmx.secondaryModelIndex"


def test_merge_precedence_reaches_the_provider(env: Env, http: httpx.Client) -> None:
    env.resource(env.slot("openai"), name="merged", defaultArgs={
        "top_p": 0.5, "temperature": 0.2, "metadata": {"team": "default", "tier": "default"}})
    body = chat("merged", "echo-request", temperature=0.7, metadata={"tier": "body"},
                vmx={"providerArgs": {"temperature": 0.1, "metadata": {"extra": "provider"}}})
    r = http.post("/chat/completions", json=body)
    sent = json.loads(r.json()["choices"][0]["message"]["content"])
    assert sent["top_p"] == 0.5 and sent["temperature"] == 0.1  # gpt-4o takes no reasoning_effort
    assert sent["metadata"] == {"team": "default", "tier": "body", "extra": "provider"}
    assert "vmx" not in sent and sent["model"] == "gpt-4o"
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["request_payload"]["temperature"] == 0.1 and "vmx" not in row["request_payload"]


def test_overrides_by_connection_name(env: Env, http: httpx.Client) -> None:
    env.resource(env.slot("openai"), name="overridable", fallbackModels=[env.slot("bedrock")])  # uses bedrock-conn
    body = chat("overridable", vmx={"resourceConfigOverrides": {
        "model": {"provider": "bedrock", "model": "amazon.nova-lite-v1:0", "connectionName": "bedrock-conn"}}})
    assert routed_model(http, body) == "amazon.nova-lite-v1:0"
    body["vmx"]["resourceConfigOverrides"]["model"]["connectionName"] = "nope"
    r = http.post("/chat/completions", json=body)
    assert r.status_code == 400 and "model.connectionName" in r.json()["error"]["message"]
    assert routed_model(http, chat("overridable")) == "gpt-4o"


def test_routing_dry_run_names_the_rule_and_why(env: Env, http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    groq = env.slot("groq", "llama-3.1-70b-versatile")
    created = env.resource(env.slot("openai", "dry-primary"), name="dry", routing={"enabled": True, "conditions": [
        {"description": "blocked words", "action": "block",
         "if": [{"field": "lastMessage", "operator": "contains", "value": "forbidden"}]},
        {"description": "Use Groq for small requests",
         "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100}], "then": groq},
        {"description": "unhealthy primary",
         "if": [{"field": "errorRate", "operator": "greaterThan", "value": 10, "window": 10}],
         "then": env.slot("anthropic")}]})
    url = f"/v1/ai-resource/{env.ws}/{env.env}/{created['id']}/routing-test"

    small = env.admin.post(url, json={"request": chat("dry")}).json()
    assert (small["action"], small["conditionIndex"], small["description"]) == \
        ("route", 1, "Use Groq for small requests")
    assert small["model"]["model"] == "llama-3.1-70b-versatile" and small["endpoint"] == "chat"
    assert "conditions[0] (blocked words): no match" in small["trace"][0]
    assert small["variables"]["requestTokens"] < 100

    blocked = env.admin.post(url, json={"request": chat("dry", "a forbidden thing")}).json()
    assert blocked["action"] == "block" and blocked["model"] is None and blocked["conditionIndex"] == 0

    big = env.admin.post(url, json={"request": {"model": "dry", "input": "word " * 300}}).json()
    assert big["endpoint"] == "responses" and big["action"] == "none"
    assert big["model"]["model"] == "dry-primary" and big["trace"][-1] == "no condition matched, primary model used"

    # The live error rate of the primary model decides the third rule once real calls have failed.
    fake_upstream.script("dry-primary", Behaviour(status=500))
    assert http.post("/chat/completions", json=chat("dry", "word " * 300)).status_code >= 500
    unhealthy = env.admin.post(url, json={"request": chat("dry", "word " * 300)}).json()
    assert unhealthy["action"] == "route" and unhealthy["conditionIndex"] == 2, unhealthy
    assert "errorRate" in unhealthy["trace"][-1]

    # An unsaved rule set is tried without saving it; the sample's vmx envelope is honoured.
    trial = env.admin.post(url, json={"request": {**chat("dry"), "vmx": {"metadata": {"tier": "gold"}}},
                                      "routing": {"enabled": True, "conditions": [
                                          {"if": [{"field": "metadata.tier", "operator": "equals", "value": "gold"}],
                                           "then": env.slot("bedrock")}]}}).json()
    assert trial["action"] == "route" and trial["model"]["provider"] == "bedrock"
    assert env.admin.get(f"/v1/ai-resource/{env.ws}/{env.env}/{created['id']}").json()["routing"]["conditions"][0][
        "description"] == "blocked words"
    pinned = env.admin.post(url, json={"request": {**chat("dry"), "vmx": {"secondaryModelIndex": 0}}}).json()
    assert pinned["action"] == "invalid" and "out of range" in pinned["reason"]

    bad = env.admin.post(url, json={"request": {**chat("dry"), "vmx": {"timeoutMs": "soon"}}})
    assert bad.status_code == 400 and "timeoutMs" in bad.json()["error"]["message"]
    bad_rule = env.admin.post(url, json={"request": chat("dry"), "routing": {"enabled": True, "conditions": [
        {"if": [{"field": "lastMessage", "operator": "matches", "value": "("}], "then": groq}]}})
    assert bad_rule.status_code == 400 and "conditions[0]" in bad_rule.json()["error"]["message"]
    assert env.admin.post(url, json={}).status_code == 422
    missing = env.admin.post(f"/v1/ai-resource/{env.ws}/{env.env}/{'0' * 32}/routing-test",
                             json={"request": chat("dry")})
    assert missing.status_code == 404
