"""Wrong ids in the base URL, through the official SDKs: ids that name no environment answer 404
`environment not found` in the endpoint's shape (not "invalid API key"); a known environment called
with another environment's key stays 401."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, check, make_env

MESSAGES: list[dict[str, str]] = [{"role": "user", "content": "x"}]


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "sdk-env-ids")
    e.resource(e.slot("openai"), name="r-openai")
    yield e


def _unknown_env_url(env: Env) -> str:
    return f"{env.app_url}/v1/completion/{env.ws}/{uuid.uuid4()}"


def test_unknown_environment_is_404_for_openai(env: Env) -> None:
    client = openai.OpenAI(base_url=_unknown_env_url(env), api_key=env.key, max_retries=0)
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="r-openai", messages=MESSAGES)  # type: ignore[arg-type]
    assert nf.value.code == "environment_not_found" and "environment not found" in nf.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="r-openai", input="x")
    wrong_ws = openai.OpenAI(base_url=f"{env.app_url}/v1/completion/{uuid.uuid4()}/{env.env}", api_key=env.key,
                             max_retries=0)
    with pytest.raises(openai.NotFoundError):
        wrong_ws.chat.completions.create(model="r-openai", messages=MESSAGES)  # type: ignore[arg-type]
    not_an_id = openai.OpenAI(base_url=f"{env.app_url}/v1/completion/my-workspace/prod", api_key=env.key,
                              max_retries=0)
    with pytest.raises(openai.NotFoundError):
        not_an_id.chat.completions.create(model="r-openai", messages=MESSAGES)  # type: ignore[arg-type]


def test_unknown_environment_is_404_for_anthropic(env: Env) -> None:
    client = anthropic.Anthropic(base_url=_unknown_env_url(env) + "/anthropic", api_key=env.key, max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.messages.create(model="r-openai", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
    body = nf.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "not_found_error"
    assert "environment not found" in body["error"]["message"]


def test_known_environment_with_another_environments_key_is_401(env: Env) -> None:
    other = check(env.admin.post(f"/v1/environment/{env.ws}", json={"name": "other"}))["id"]
    other_key = check(env.admin.post(f"/v1/api-key/{env.ws}/{other}", json={"name": "other-key"}))["apiKeyValue"]
    client = openai.OpenAI(base_url=env.base_url, api_key=other_key, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        client.chat.completions.create(model="r-openai", messages=MESSAGES)  # type: ignore[arg-type]
    assert auth.value.code == "invalid_api_key"
    good = openai.OpenAI(base_url=env.base_url, api_key=env.key, max_retries=0)
    assert good.chat.completions.create(model="r-openai", messages=MESSAGES).choices  # type: ignore[arg-type]
