"""`vmx.resourceConfigOverrides` cannot widen a scoped key (issue 9, DESIGN §11): a resource can turn
overrides off (`allowOverrides`), and an override names only connections the resource already uses,
unless the API key carries the label `overrides:any`; an unknown or foreign connection is a 400 naming
the slot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, audit_row, check, make_env

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
PREFIX = "vmx.resourceConfigOverrides"


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "overrides")
    e.resources = {name: e.resource(e.slot("openai"), name=name)["id"]  # type: ignore[attr-defined]
                   for name in ("cheap", "locked")}
    yield e


def call(env: Env, key: str, overrides: dict[str, Any], model: str = "cheap") -> httpx.Response:
    return httpx.post(f"{env.base_url}/chat/completions", headers=env.headers(key), timeout=30,
                      json={"model": model, **CHAT, "vmx": {"resourceConfigOverrides": overrides}})


def claude(env: Env, connection_id: str | None = None) -> dict[str, Any]:
    return {"model": {"provider": "anthropic", "model": "claude-sonnet-4-5",
                      "connectionId": connection_id or env.connections["anthropic"]}}


def test_allow_overrides_defaults_to_true_and_can_be_turned_off(env: Env) -> None:
    rid = env.resources["locked"]  # type: ignore[attr-defined]
    url = f"/v1/ai-resource/{env.ws}/{env.env}/{rid}"
    assert check(env.admin.get(url), 200)["allowOverrides"] is True
    assert call(env, env.key, {"model": {"model": "gpt-4o-mini"}}, "locked").status_code == 200
    assert env.update_resource(rid, allowOverrides=False)["allowOverrides"] is False
    r = call(env, env.key, {"model": {"model": "gpt-4o-mini"}}, "locked")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == PREFIX and "does not allow overrides" in r.json()["error"]["message"]
    assert audit_row(r.headers["x-vmx-request-id"])["status_code"] == 400
    assert call(env, env.key, {}, "locked").status_code == 200  # without overrides it still answers


def test_scoped_key_cannot_reach_another_connection(env: Env, fake_upstream: FakeUpstream) -> None:
    key, _ = env.api_key(resources=[env.resources["cheap"]])  # type: ignore[attr-defined]
    r = call(env, key, claude(env))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == f"{PREFIX}.model"
    assert "anthropic-conn" in r.json()["error"]["message"]
    by_name = call(env, key, {"model": {"provider": "groq", "model": "llama", "connectionName": "groq-conn"}})
    assert by_name.status_code == 400 and by_name.json()["error"]["param"] == f"{PREFIX}.model"
    same = call(env, key, {"model": {"model": "gpt-4o-mini"}})  # the resource's own connection, another model
    assert same.status_code == 200 and same.headers["x-vmx-model"] == "gpt-4o-mini"


def test_key_labelled_overrides_any_may_name_any_connection(env: Env) -> None:
    key, _ = env.api_key(resources=[env.resources["cheap"]], labels=["overrides:any"])  # type: ignore[attr-defined]
    r = call(env, key, claude(env))
    assert r.status_code == 200, r.text
    assert r.headers["x-vmx-model"] == "claude-sonnet-4-5"


@pytest.mark.parametrize("which", ["unknown", "foreign"])
def test_unknown_or_foreign_connection_id_is_400_naming_the_slot(env: Env, app_url: str,
                                                                 fake_upstream: FakeUpstream, which: str) -> None:
    if which == "unknown":
        conn_id = "00000000-0000-0000-0000-000000000000"
    else:
        conn_id = make_env(app_url, env.admin, fake_upstream, "foreign").connections["anthropic"]
    key, _ = env.api_key(labels=["overrides:any"])
    r = call(env, key, {"useFallback": True, "fallbackModels": [claude(env, conn_id)["model"]]})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == f"{PREFIX}.fallbackModels[0].connectionId"
