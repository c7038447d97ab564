"""Reasoning goes only to models that reason, as the running app decides it: the name-based guess, the
catalog's flag (model pricing) and the connection's `modelCapabilities` override, seen from Claude Code's
request shape (adaptive thinking) through the Anthropic SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, check


@pytest.fixture(scope="module")
def client(clients_env: Env) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=clients_env.base_url + "/anthropic", api_key=clients_env.key,
                             max_retries=0) as c:
        yield c


def ask(client: anthropic.Anthropic, fake: FakeUpstream, resource: str, model: str) -> tuple[Any, dict[str, Any]]:
    raw = client.messages.with_raw_response.create(model=resource, max_tokens=1024, thinking={"type": "adaptive"},
                                                   messages=[{"role": "user", "content": "Hello!"}])
    assert raw.status_code == 200
    return raw, fake.requests_for(model)[-1].json


def test_connection_override_and_catalog_flag(client: anthropic.Anthropic, clients_env: Env,
                                              admin_client: httpx.Client) -> None:
    fake = clients_env.fake
    conn = clients_env.connection("local", "openai-compatible", {
        "baseUrl": fake.openai_url, "apiKey": "sk-local", "modelCapabilities": {"local-thinker": {"reasoning": True}}})
    for name, model in (("thinker", "local-thinker"), ("plain", "local-plain"), ("catalogued", "local-catalogued")):
        clients_env.resource({"provider": "openai-compatible", "model": model, "connectionId": conn}, name=name)

    raw, sent = ask(client, fake, "thinker", "local-thinker")
    assert sent["reasoning_effort"] == "medium" and raw.headers["x-vmx-event-count"] == "0"
    raw, sent = ask(client, fake, "plain", "local-plain")
    assert "reasoning_effort" not in sent and raw.headers["x-vmx-event-0-type"] == "conversion"

    price = check(admin_client.post("/v1/model-pricing", json={
        "provider": "openai-compatible", "model": "local-catalogued", "reasoning": True}))
    try:
        for _ in range(20):  # the catalog reloads in the background after the change event
            _, sent = ask(client, fake, "catalogued", "local-catalogued")
            if "reasoning_effort" in sent:
                break
            time.sleep(0.25)
        assert sent.get("reasoning_effort") == "medium"
    finally:
        admin_client.delete(f"/v1/model-pricing/{price['id']}")
