"""Merge precedence, the vmx envelope and per-request resource overrides."""

from __future__ import annotations

from typing import Any

import pytest

from vmx_app.gateway.config import ResourceConfig, ResourceSnapshot
from vmx_app.gateway.merge import (
    EnvelopeError,
    VmxEnvelope,
    apply_overrides,
    deep_merge,
    merge_request,
    split_vmx_envelope,
)


def test_deep_merge_dicts_recurse_lists_replace() -> None:
    base = {"a": 1, "nested": {"x": 1, "y": {"deep": True}}, "list": [1, 2], "keep": {"k": 1}}
    over = {"a": 2, "nested": {"y": {"other": 1}}, "list": [3]}
    assert deep_merge(base, over) == {"a": 2, "nested": {"x": 1, "y": {"deep": True, "other": 1}},
                                      "list": [3], "keep": {"k": 1}}
    assert base["nested"]["y"] == {"deep": True}  # inputs untouched


def test_deep_merge_result_does_not_alias_the_base() -> None:
    default_args = {"stream_options": {"include_usage": False}, "stop": ["a"]}
    merged = merge_request(default_args, {"model": "m"}, None)
    merged["stream_options"]["include_usage"] = True
    merged["stop"].append("b")
    assert default_args == {"stream_options": {"include_usage": False}, "stop": ["a"]}


def test_dict_replaces_scalar_and_scalar_replaces_dict() -> None:
    assert deep_merge({"a": {"x": 1}}, {"a": 5}) == {"a": 5}
    assert deep_merge({"a": 5}, {"a": {"x": 1}}) == {"a": {"x": 1}}
    assert deep_merge({"a": 1}, {"a": None}) == {"a": None}


def test_merge_precedence_default_body_provider_args() -> None:
    default_args = {"temperature": 0.2, "reasoning_effort": "high", "top_p": 0.9,
                    "metadata": {"team": "a", "env": "prod"},
                    "messages": [{"role": "system", "content": "default"}]}
    body = {"model": "res", "temperature": 0.7, "metadata": {"team": "b"},
            "messages": [{"role": "user", "content": "from body"}]}
    provider_args = {"top_p": 0.5, "metadata": {"env": "dev"},
                     "messages": [{"role": "user", "content": "from providerArgs"}]}
    merged = merge_request(default_args, body, provider_args)
    assert merged["temperature"] == 0.7  # body beats defaultArgs
    assert merged["top_p"] == 0.5  # providerArgs beats defaultArgs
    assert merged["reasoning_effort"] == "high"  # defaultArgs fill the gaps
    assert merged["metadata"] == {"team": "b", "env": "dev"}  # deep at every level
    # providerArgs win, on messages too
    assert merged["messages"] == [{"role": "user", "content": "from providerArgs"}]
    assert merge_request(default_args, body, {})["messages"] == [{"role": "user", "content": "from body"}]
    assert merge_request(None, body, None) == body


# ---- envelope -------------------------------------------------------------------------------------------

def test_split_envelope_strips_vmx() -> None:
    body = {"model": "r", "messages": [], "vmx": {
        "correlationId": "c-1", "metadata": {"user": "u"}, "timeoutMs": 5000, "secondaryModelIndex": 0,
        "providerArgs": {"top_k": 5}, "resourceConfigOverrides": {"useFallback": True}}}
    rest, env = split_vmx_envelope(body)
    assert rest == {"model": "r", "messages": []} and "vmx" in body
    assert env.correlation_id == "c-1" and env.metadata == {"user": "u"} and env.timeout_ms == 5000
    assert env.secondary_model_index == 0  # 0 is a valid index (the original rejected it)
    assert env.provider_args == {"top_k": 5} and env.resource_config_overrides == {"useFallback": True}


@pytest.mark.parametrize("body", [{"model": "r"}, {"model": "r", "vmx": None}, {"model": "r", "vmx": {}}])
def test_absent_or_empty_envelope(body: dict[str, Any]) -> None:
    rest, env = split_vmx_envelope(body)
    assert rest == {"model": "r"} and env == VmxEnvelope()
    assert env.secondary_model_index is None and env.metadata == {}


def test_null_containers_are_empty() -> None:
    _, env = split_vmx_envelope({"vmx": {"metadata": None, "providerArgs": None}})
    assert env.metadata == {} and env.provider_args == {}


@pytest.mark.parametrize(("vmx", "field"), [
    ("not an object", "vmx"),
    ({"correlationId": 42}, "vmx.correlationId"),
    ({"correlationId": ""}, "vmx.correlationId"),
    ({"metadata": [1, 2]}, "vmx.metadata"),
    ({"timeoutMs": 0}, "vmx.timeoutMs"),
    ({"timeoutMs": 600_001}, "vmx.timeoutMs"),
    ({"timeoutMs": "5000"}, "vmx.timeoutMs"),
    ({"timeoutMs": True}, "vmx.timeoutMs"),
    ({"secondaryModelIndex": -1}, "vmx.secondaryModelIndex"),
    ({"secondaryModelIndex": 1.5}, "vmx.secondaryModelIndex"),
    ({"providerArgs": "x"}, "vmx.providerArgs"),
    ({"resourceConfigOverrides": []}, "vmx.resourceConfigOverrides"),
    ({"secondaryModelIdx": 1}, "vmx.secondaryModelIdx"),
])
def test_envelope_errors_name_the_field(vmx: Any, field: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        split_vmx_envelope({"model": "r", "vmx": vmx})
    assert info.value.field == field
    assert str(info.value).startswith(field + ":")
    assert isinstance(info.value, ValueError)


# ---- resource overrides -------------------------------------------------------------------------------

RESOURCE = {
    "model": {"provider": "openai", "model": "gpt-4o", "connectionId": "conn-openai", "maxRetries": 2},
    "secondaryModels": [{"provider": "openai", "model": "gpt-4o-mini", "connectionId": "conn-openai"}],
    "useFallback": True,
    "fallbackModels": [{"provider": "anthropic", "model": "claude", "connectionId": "conn-anthropic"}],
    "defaultArgs": {"temperature": 0.2, "extra": {"a": 1}},
    "capacity": [{"period": "minute", "requests": 10}],
    "enforceCapacity": True,
}


def test_apply_overrides_deep_merges_and_revalidates() -> None:
    res = ResourceConfig.model_validate(RESOURCE)
    groq = {"provider": "groq", "model": "llama", "connectionName": "g"}
    out = apply_overrides(res, {"model": {"model": "gpt-4.1"}, "defaultArgs": {"extra": {"b": 2}},
                                "fallbackModels": [groq]})
    assert out.model.model == "gpt-4.1" and out.model.max_retries == 2
    assert out.model.connection_id == "conn-openai"
    assert out.default_args == {"temperature": 0.2, "extra": {"a": 1, "b": 2}}
    assert [s.model for s in out.fallback_models] == ["llama"]  # lists replaced
    assert out.fallback_models[0].connection_name == "g"
    assert res.model.model == "gpt-4o"  # original untouched
    assert apply_overrides(res, {}) is res


def test_override_connection_name_replaces_stored_id() -> None:
    res = ResourceConfig.model_validate(RESOURCE)
    out = apply_overrides(res, {"model": {"connectionName": "openai-eu"}})
    assert out.model.connection_name == "openai-eu" and out.model.connection_id is None
    named = ResourceConfig.model_validate({**RESOURCE, "model": {"provider": "openai", "model": "m",
                                                                 "connectionName": "old"}})
    out = apply_overrides(named, {"model": {"connectionId": "new-id"}})
    assert out.model.connection_id == "new-id" and out.model.connection_name is None


def test_overrides_keep_the_snapshot_class() -> None:
    snap = ResourceSnapshot.model_validate({**RESOURCE, "id": "r1", "workspaceId": "w", "environmentId": "e",
                                            "name": "res"})
    out = apply_overrides(snap, {"useFallback": False})
    assert isinstance(out, ResourceSnapshot) and out.id == "r1" and out.use_fallback is False


@pytest.mark.parametrize(("overrides", "field"), [
    ({"model": {"provider": "nope"}}, "vmx.resourceConfigOverrides.model.provider"),
    ({"model": {"maxRetries": 11}}, "vmx.resourceConfigOverrides.model.maxRetries"),
    ({"fallbackModels": [{"provider": "openai", "model": "m"}, {"provider": "openai"}]},
     "vmx.resourceConfigOverrides.fallbackModels[1].model"),
    ({"routing": {"enabled": True, "conditions": [{"if": [{"field": "bogus", "operator": "equals"}],
                                                   "then": {"provider": "openai", "model": "m"}}]}},
     "vmx.resourceConfigOverrides.routing.conditions[0].if[0]"),
    ({"capacity": []}, "vmx.resourceConfigOverrides.capacity"),
    ({"enforceCapacity": False}, "vmx.resourceConfigOverrides.enforceCapacity"),
    ({"name": "x"}, "vmx.resourceConfigOverrides.name"),
])
def test_override_errors_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        apply_overrides(ResourceConfig.model_validate(RESOURCE), overrides)
    assert info.value.field == field
