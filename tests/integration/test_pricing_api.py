"""The model pricing catalog through the API: seeded at first start, readable by every signed-in user,
edited by admins only; the in-memory lookup follows edits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import login
from vmx_app.services.config_events import ConfigChange, invalidate_local
from vmx_app.services.model_pricing import TokenCounts, compute_cost, get_pricing_lookup, seed_pricing


@pytest.fixture(scope="module")
def reader(app_url: str, admin_client: httpx.Client) -> Iterator[httpx.Client]:
    """A signed-in user with the read-only role."""
    email = f"reader-{uuid.uuid4().hex[:8]}@vmx.test"
    created = admin_client.post("/v1/user", json={"email": email, "password": "Reader-password-1",
                                                  "roles": ["read-only"]})
    assert created.status_code == 201, created.text
    token = login(app_url, email, "Reader-password-1")
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        yield client


def test_catalog_is_seeded_with_list_prices(admin_client: httpx.Client) -> None:
    body = admin_client.get("/v1/model-pricing", params={"pageSize": 1000}).json()
    rows = {(r["provider"], r["model"]): r for r in body["data"]}
    assert body["total"] == len(body["data"]) >= 50
    gpt4o = rows[("openai", "gpt-4o")]
    assert gpt4o["inputPerMillion"] == 2.5 and gpt4o["outputPerMillion"] == 10.0
    assert gpt4o["cachedInputPerMillion"] == 1.25 and gpt4o["currency"] == "USD"
    for key in (("anthropic", "claude-sonnet-4"), ("gemini", "gemini-2.5-flash"), ("groq", "llama-3.1-8b-instant"),
                ("perplexity", "sonar"), ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0")):
        assert key in rows
    only_groq = admin_client.get("/v1/model-pricing", params={"provider": "groq"}).json()["data"]
    assert only_groq and {r["provider"] for r in only_groq} == {"groq"}


def test_catalog_carries_capability_flags(admin_client: httpx.Client) -> None:
    rows = {(r["provider"], r["model"]): r for r in
            admin_client.get("/v1/model-pricing", params={"pageSize": 1000}).json()["data"]}
    assert rows[("openai", "gpt-4o")]["reasoning"] is False and rows[("openai", "o3")]["reasoning"] is True
    assert rows[("anthropic", "claude-3-5-haiku")]["structuredOutput"] is False
    assert rows[("anthropic", "claude-sonnet-4-5")]["structuredOutput"] is True
    created = admin_client.post("/v1/model-pricing", json={"provider": "openai-compatible", "model": "qwq-local",
                                                           "reasoning": True})
    assert created.status_code == 201 and created.json()["reasoning"] is True
    updated = admin_client.put(f"/v1/model-pricing/{created.json()['id']}", json={"reasoning": None})
    assert updated.status_code == 200 and updated.json()["reasoning"] is None  # back to the name-based guess
    assert admin_client.delete(f"/v1/model-pricing/{created.json()['id']}").status_code in (200, 204)


async def test_seed_runs_once() -> None:
    assert await seed_pricing() == 0  # the app seeded at start; a catalog with rows is left alone


def test_everyone_reads_only_admins_write(reader: httpx.Client, admin_client: httpx.Client) -> None:
    listed = reader.get("/v1/model-pricing")
    assert listed.status_code == 200 and listed.json()["data"]
    row = listed.json()["data"][0]
    assert reader.get(f"/v1/model-pricing/{row['id']}").json() == row
    denied = reader.post("/v1/model-pricing", json={"provider": "openai", "model": "x", "inputPerMillion": 1})
    assert denied.status_code == 403
    assert reader.put(f"/v1/model-pricing/{row['id']}", json={"inputPerMillion": 0}).status_code == 403
    assert reader.delete(f"/v1/model-pricing/{row['id']}").status_code == 403
    assert admin_client.get(f"/v1/model-pricing/{row['id']}").json() == row  # untouched


def test_anonymous_is_401(app_url: str) -> None:
    assert httpx.get(f"{app_url}/v1/model-pricing").status_code == 401


async def test_admin_crud_and_the_lookup_follows(admin_client: httpx.Client) -> None:
    model = f"custom-{uuid.uuid4().hex[:6]}"
    created = admin_client.post("/v1/model-pricing", json={
        "provider": "openai-compatible", "model": model, "inputPerMillion": 1.0, "outputPerMillion": 4.0,
        "cachedInputPerMillion": 0.5})
    assert created.status_code == 201, created.text
    row = created.json()
    assert row["id"] and row["reasoningPerMillion"] is None
    assert admin_client.post("/v1/model-pricing", json={"provider": "openai-compatible", "model": model}
                             ).status_code == 409
    bad = admin_client.post("/v1/model-pricing", json={"provider": "openai", "model": "y", "inputPerMillion": -1})
    assert bad.status_code == 422

    # The test process reads the same database; its lookup is a separate cache, told of the change as
    # a Redis message would tell it.
    invalidate_local(ConfigChange("model-pricing"))
    lookup = await get_pricing_lookup()
    price = lookup.find("openai-compatible", f"{model}-2025-01-01")
    assert price is not None and price.input == 1.0
    assert compute_cost(price, TokenCounts(prompt=2_000_000, completion=1_000_000))["total"] == 6.0

    updated = admin_client.put(f"/v1/model-pricing/{row['id']}", json={"outputPerMillion": 8.0,
                                                                        "cachedInputPerMillion": None})
    assert updated.status_code == 200
    assert updated.json()["outputPerMillion"] == 8.0 and updated.json()["cachedInputPerMillion"] is None
    assert updated.json()["inputPerMillion"] == 1.0

    assert admin_client.delete(f"/v1/model-pricing/{row['id']}").status_code == 204
    assert admin_client.get(f"/v1/model-pricing/{row['id']}").status_code == 404
