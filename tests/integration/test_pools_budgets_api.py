"""Management API of issue 10: `budgets[]` on environments, resources and API keys, the live
`/v1/budget-status/{ws}/{env}`, and `/v1/pool-definition/{ws}/{env}` (get, put, delete) with its
validation answering 400 naming the field."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, check, make_env


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Env:
    return make_env(app_url, admin_client, fake_upstream, "pools-budgets")


def test_budgets_are_stored_and_reported_live(env: Env) -> None:
    day = [{"period": "day", "amountUsd": 5}]
    env_body = check(env.admin.put(f"/v1/environment/{env.ws}/{env.env}", json={"budgets": day}), 200)
    assert env_body["budgets"] == [{"period": "day", "amountUsd": 5.0, "enabled": True}]
    # A price of its own (other tests may edit the seeded catalog): 1 USD per 1M tokens in and out.
    check(env.admin.post("/v1/model-pricing", json={"provider": "openai", "model": "budget-status-model",
                                                    "inputPerMillion": 1, "outputPerMillion": 1}))
    res = env.resource(env.slot("openai", "budget-status-model"), name="budgeted",
                       budgets=[{"period": "month", "amountUsd": 2}])
    _, key_id = env.api_key(budgets=[{"period": "lifetime", "amountUsd": 1}])
    time.sleep(1.5)  # the gateway reloads the pricing catalog on the change event
    r = httpx.post(f"{env.base_url}/chat/completions", headers=env.headers(),
                   json={"model": "budgeted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 3
    while True:  # settlement is written a few milliseconds after the answer
        data = check(env.admin.get(f"/v1/budget-status/{env.ws}/{env.env}"), 200)["data"]
        by_level = {row["level"]: row for row in data}
        if by_level["resource"]["spentUsd"] > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert set(by_level) == {"environment", "resource", "api-key"}
    assert by_level["resource"]["entityId"] == res["id"] and by_level["resource"]["period"] == "month"
    assert by_level["api-key"]["entityId"] == key_id and by_level["api-key"]["resetsAt"] is None
    for row in (by_level["environment"], by_level["resource"]):
        assert set(row) == {"level", "entityId", "entityName", "period", "amountUsd", "spentUsd", "reservedUsd",
                            "resetsAt"}
        assert row["spentUsd"] > 0 and row["reservedUsd"] == 0  # settled to the real cost
    check(env.admin.put(f"/v1/environment/{env.ws}/{env.env}", json={"budgets": []}), 200)


@pytest.mark.parametrize(("body", "field"), [
    ({"budgets": [{"period": "hour", "amountUsd": 1}]}, "budgets.0.period"),
    ({"budgets": [{"period": "day", "amountUsd": -1}]}, "budgets.0.amountUsd"),
])
def test_bad_budgets_are_refused(env: Env, body: dict[str, Any], field: str) -> None:
    r = env.admin.put(f"/v1/environment/{env.ws}/{env.env}", json=body)
    assert r.status_code in (400, 422) and field in r.text


def test_pool_definition_get_put_delete(env: Env) -> None:
    url = f"/v1/pool-definition/{env.ws}/{env.env}"
    assert env.admin.get(url).status_code == 404
    a = env.resource(env.slot("openai", "gpt-4o"), name="pool-a")
    b = env.resource(env.slot("openai", "gpt-4o"), name="pool-b")
    definition = [{"name": "interactive", "rank": 1, "minReservation": 40, "maxReservation": 100,
                   "resources": [a["id"]]},
                  {"name": "batch", "rank": 2, "minReservation": 10, "maxReservation": 60, "resources": [b["id"]]}]
    put = check(env.admin.put(url, json={"definition": definition}), 200)
    assert put["environmentId"] == env.env and [p["name"] for p in put["definition"]] == ["interactive", "batch"]
    assert check(env.admin.get(url), 200)["definition"] == put["definition"]
    assert env.admin.delete(url).status_code == 204
    assert env.admin.get(url).status_code == 404


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d[0].update(minReservation=70, maxReservation=50), "definition[0].minReservation"),
    (lambda d: d[1].update(minReservation=70), "definition"),
    (lambda d: d[1]["resources"].append(d[0]["resources"][0]), "definition[1].resources[1]"),
    (lambda d: d[1].update(name="one"), "definition[1].name"),
    (lambda d: d[0]["resources"].append("00000000-0000-0000-0000-000000000000"), "definition[0].resources[1]"),
    (lambda d: d[0].update(maxReservation=101), "definition[0].maxReservation"),
    (lambda d: d[0].pop("name"), "definition[0].name"),
])
def test_pool_definition_validation_names_the_field(env: Env, mutate: Any, field: str) -> None:
    r1 = env.resource(env.slot("openai", "gpt-4o"))
    r2 = env.resource(env.slot("openai", "gpt-4o"))
    definition = [{"name": "one", "rank": 1, "minReservation": 40, "maxReservation": 100, "resources": [r1["id"]]},
                  {"name": "two", "rank": 2, "minReservation": 10, "maxReservation": 100, "resources": [r2["id"]]}]
    mutate(definition)
    r = env.admin.put(f"/v1/pool-definition/{env.ws}/{env.env}", json={"definition": definition})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"]["field"] == field and r.json()["error"]["message"].startswith(field)
