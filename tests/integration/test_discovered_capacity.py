"""Discovered capacity: the rate-limit headers of OpenAI-style and Anthropic answers end up on the
connection per model (`discoveredCapacity.models`), written at most once a minute per model."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, check, make_env
from vmx_app.gateway.capacity.discovered import parse_rate_limits

OPENAI_HEADERS = {"x-ratelimit-limit-requests": "5000", "x-ratelimit-limit-tokens": "800000",
                  "x-ratelimit-remaining-requests": "4999"}
ANTHROPIC_HEADERS = {"anthropic-ratelimit-requests-limit": "4000", "anthropic-ratelimit-tokens-limit": "480000",
                     "anthropic-ratelimit-input-tokens-limit": "400000",
                     "anthropic-ratelimit-output-tokens-limit": "80000"}


def test_parse_rate_limit_headers() -> None:
    assert parse_rate_limits(OPENAI_HEADERS) == {"period": "minute", "enabled": True, "requests": 5000,
                                                 "tokens": 800000}
    assert parse_rate_limits(ANTHROPIC_HEADERS) == {"period": "minute", "enabled": True, "requests": 4000,
                                                    "tokens": 480000, "inputTokens": 400000, "outputTokens": 80000}
    assert parse_rate_limits({"x-ratelimit-limit-tokens": "oops", "content-type": "x"}) is None


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Env:
    return make_env(app_url, admin_client, fake_upstream, "discovered")


def discovered(env: Env, provider: str, model: str, timeout_s: float = 5.0) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout_s
    while True:
        conn = check(env.admin.get(f"/v1/ai-connection/{env.ws}/{env.env}/{env.connections[provider]}"), 200)
        found = (conn["discoveredCapacity"].get("models") or {}).get(model)
        if found is not None or time.monotonic() > deadline:
            return found  # type: ignore[no-any-return]
        time.sleep(0.1)


@pytest.mark.parametrize(("provider", "model", "headers", "expected"), [
    ("groq", "disc-llama", OPENAI_HEADERS, {"requests": 5000, "tokens": 800000}),
    ("anthropic", "disc-claude", ANTHROPIC_HEADERS,
     {"requests": 4000, "tokens": 480000, "inputTokens": 400000, "outputTokens": 80000}),
])
def test_headers_become_discovered_capacity_once_a_minute(env: Env, fake_upstream: FakeUpstream, provider: str,
                                                          model: str, headers: dict[str, str],
                                                          expected: dict[str, int]) -> None:
    env.resource(env.slot(provider, model), name=f"disc-{provider}")
    fake_upstream.script(model, Behaviour(headers=headers), Behaviour(headers={
        **headers, "x-ratelimit-limit-requests": "1", "anthropic-ratelimit-requests-limit": "1"}))
    body = {"model": f"disc-{provider}", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    for _ in range(2):
        r = httpx.post(f"{env.base_url}/chat/completions", headers=env.headers(), json=body)
        assert r.status_code == 200, r.text
    found = discovered(env, provider, model)
    assert found is not None and found["capacity"] == [{"period": "minute", "enabled": True, **expected}]
    assert found["updatedAt"].endswith("Z")
    time.sleep(0.5)  # the second answer's different limits are not written within the minute
    again = discovered(env, provider, model)
    assert again == found
