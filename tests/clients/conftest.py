"""The client-compatibility suite (issue 12): real client libraries, unchanged, against the running
gateway, which talks to the strict fake upstream. One OpenAI-backed and one Anthropic-backed resource;
every client runs text, streaming, a tool round trip, structured output and reasoning + tools on both."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, check, connection_config

# resource name -> (provider, model). "coder" has a non-Claude name and a non-reasoning model (Claude Code).
RESOURCES: dict[str, tuple[str, str]] = {
    "oai": ("openai", "o4-mini"),
    "claude": ("anthropic", "claude-sonnet-4-5"),
    "coder": ("openai", "gpt-4o"),
}
BACKENDS = ["oai", "claude"]  # what every client case runs against


@pytest.fixture(scope="session")
def clients_env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    ws = check(admin_client.post("/v1/workspace", json={"name": f"clients-{secrets.token_hex(3)}"}))["id"]
    env_id = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "clients"}))["id"]
    created = check(admin_client.post(f"/v1/api-key/{ws}/{env_id}", json={"name": "clients"}))
    env = Env(app_url, admin_client, fake_upstream, str(ws), str(env_id), created["apiKeyValue"], str(created["id"]))
    for provider in ("openai", "anthropic"):
        config = connection_config(provider, fake_upstream)
        if provider == "anthropic":
            config["baseUrl"] = fake_upstream.url  # the Anthropic SDK's convention: no /v1 (issue 12 item 6)
        env.connections[provider] = env.connection(f"{provider}-conn", provider, config)
    for name, (provider, model) in RESOURCES.items():
        env.resource(env.slot(provider, model), name=name)
    yield env


@pytest.fixture(params=BACKENDS)
def resource(request: pytest.FixtureRequest) -> str:
    return str(request.param)
