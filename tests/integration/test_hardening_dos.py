"""Denial of service through the gateway (issue 9): catastrophic regular expressions in routing rules,
storms of unknown API keys, and clients that send their request slowly."""

from __future__ import annotations

import concurrent.futures
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import login
from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, make_env
from tests.support import profile
from tests.support.servers import gateway_with

HOSTILE = "a" * 40 + "!"  # exponential for a backtracking engine on both patterns below
# The answer and a concurrent /healthz must each arrive within this; a backtracking engine takes hours.
ANSWER_TIMEOUT_S = 5.0


KEY_CACHE_SIZE = 50


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A gateway of its own with a small API-key cache, as an admin client."""
    log = tmp_path_factory.mktemp("dos") / "gateway.log"
    with gateway_with({"VMX_API_KEY_CACHE_SIZE": str(KEY_CACHE_SIZE)}, log) as url:
        token = login(url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            yield client


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "dos")


def _matches_rule(env: Env, pattern: str) -> dict[str, object]:
    return {"enabled": True, "conditions": [{"description": "hostile pattern",
                                             "if": [{"field": "lastMessage", "operator": "matches",
                                                     "value": pattern}],
                                             "then": env.slot("groq")}]}


@pytest.mark.parametrize("pattern", [r"^(\w+\s?)*$", r"(a+)+$"])
def test_catastrophic_pattern_answers_and_health_stays_live(env: Env, pattern: str) -> None:
    name = f"redos-{len(pattern)}"
    env.resource(env.slot("openai"), name=name, routing=_matches_rule(env, pattern))
    body = {"model": name, "messages": [{"role": "user", "content": HOSTILE}]}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answer = pool.submit(httpx.post, f"{env.base_url}/chat/completions", json=body, headers=env.headers(),
                             timeout=ANSWER_TIMEOUT_S)
        health = pool.submit(httpx.get, f"{env.app_url}/healthz", timeout=ANSWER_TIMEOUT_S)
        r, h = answer.result(), health.result()
    assert h.status_code == 200
    assert r.status_code == 200, r.text
    assert r.headers["x-vmx-model"] == "gpt-4o"  # no match: the primary answered


@pytest.mark.parametrize("pattern", [r"(a)\1", r"foo(?=bar)"])
def test_pattern_re2_cannot_compile_is_refused_at_save_and_in_dry_run(env: Env, pattern: str) -> None:
    r = env.admin.post(f"/v1/ai-resource/{env.ws}/{env.env}",
                       json={"name": "redos-refused", "model": env.slot("openai"),
                             "routing": _matches_rule(env, pattern)})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"].startswith("routing.conditions[0].if[0].value:")

    created = env.resource(env.slot("openai"), name=f"redos-dry-{len(pattern)}")
    dry = env.admin.post(f"/v1/ai-resource/{env.ws}/{env.env}/{created['id']}/routing-test",
                         json={"request": {"messages": [{"role": "user", "content": "hi"}]},
                               "routing": _matches_rule(env, pattern)})
    assert dry.status_code == 400, dry.text
    assert "routing.conditions[0].if[0].value" in dry.json()["error"]["message"]
    update = env.admin.put(f"/v1/ai-resource/{env.ws}/{env.env}/{created['id']}",
                           json={"routing": _matches_rule(env, pattern)})
    assert update.status_code == 400 and "routing.conditions[0].if[0].value" in update.text


def _cache_stats(client: httpx.Client) -> dict[str, int]:
    r = client.get("/v1/internal/config-cache/stats")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_storm_of_one_unknown_key_costs_one_query(env: Env, tuned: httpx.Client) -> None:
    url = f"/v1/completion/{env.ws}/{env.env}/chat/completions"
    body = {"model": "any", "messages": [{"role": "user", "content": "hi"}]}
    bad = {"Authorization": f"Bearer sk-vmx-{secrets.token_hex(16)}"}
    # A failed key also asks whether the environment exists (404 vs 401): warm that with another bad key.
    other = {"Authorization": f"Bearer sk-vmx-{secrets.token_hex(16)}"}
    assert tuned.post(url, json=body, headers=other).status_code == 401
    before = _cache_stats(tuned)["loads"]
    for _ in range(6):  # bursts spread over more than the 2 s a "not found" used to be believed
        for _ in range(20):
            r = tuned.post(url, json=body, headers=bad)
            assert r.status_code == 401, r.text
        time.sleep(0.5)
    assert _cache_stats(tuned)["loads"] == before + 1


def test_random_keys_leave_a_bounded_cache(env: Env, tuned: httpx.Client) -> None:
    url = f"/v1/completion/{env.ws}/{env.env}/chat/completions"
    body = {"model": "any", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(4 * KEY_CACHE_SIZE):
        r = tuned.post(url, json=body, headers={"x-api-key": f"sk-vmx-{secrets.token_hex(16)}"})
        assert r.status_code == 401
    stats = _cache_stats(tuned)
    assert stats["apiKeyCapacity"] == KEY_CACHE_SIZE and stats["apiKeys"] == KEY_CACHE_SIZE
    good = tuned.post(url, json=body, headers=env.headers())  # a real key still resolves (and is cached)
    assert good.status_code == 404 and "not found" in good.text
