"""The console's AI pages in a real browser: a connection and a resource (fallback model, routing rule, API
key) created through the forms, errors shown, a reload showing them intact, the API holding the same shape,
the JSON view round-tripping it; and the model pricing page, editable by admins only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, login, shot
from tests.support import profile

pytestmark = pytest.mark.browser


@pytest.fixture
def ai_env(console_api: httpx.Client) -> dict[str, Any]:
    ws = console_api.post("/v1/workspace", json={"name": "ai-e2e"}).json()
    env = console_api.post(f"/v1/environment/{ws['id']}", json={"name": "models"}).json()
    key = console_api.post(f"/v1/api-key/{ws['id']}/{env['id']}", json={"name": "app-key"}).json()
    return {"ws": ws["id"], "env": env["id"], "key": key["id"], "base": f"{ws['id']}/{env['id']}"}


def _choose(page: Page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option, exact=True).click()


def _select_context(page: Page) -> None:
    _choose(page, '[aria-label="Workspace"]', "ai-e2e")
    expect(page.get_by_label("Workspace", exact=True)).to_have_text("ai-e2e")
    _choose(page, '[aria-label="Environment"]', "models")
    expect(page.get_by_label("Environment", exact=True)).to_have_text("models")


def _create_connection(page: Page, fake: Any, screens: Path) -> None:
    page.locator("#new-connection").click()
    at(page, "/ai-connections/edit")
    page.fill("#connection-name", "fake-openai")
    _choose(page, "#connection-provider", "OpenAI-compatible")
    expect(page.locator("#config-apiKey")).to_have_attribute("type", "password")  # the schema's secret field
    page.fill("#config-baseUrl", fake.refused_url())
    page.fill("#config-apiKey", "sk-e2e-secret")
    page.locator("#connection-test").click()
    expect(page.locator("#test-result-error")).to_be_visible()  # the provider's (network) error, shown
    page.fill("#config-baseUrl", fake.openai_url)
    page.locator("#connection-test").click()
    expect(page.locator("#test-result-ok")).to_contain_text("gpt-4o-mini")  # the model list
    page.locator("#conn-capacity-add").click()
    page.fill("#conn-capacity-0-requests", "100")
    page.fill("#conn-capacity-0-tokens", "50000")
    page.fill("#allowed-model-input", "gpt-4o, gpt-4o-mini")
    page.locator("#allowed-model-add").click()
    shot(page, screens, "40-ai-connection-form")
    page.locator("#connection-save").click()
    at(page, "/ai-connections")
    expect(page.locator('[data-row="fake-openai"]')).to_contain_text("100 req / 50000 tok per minute")


def _fill_resource(page: Page) -> None:
    page.fill("#resource-name", "chat")
    page.fill("#resource-description", "Chat for the app")
    expect(page.locator("#primary-connection")).to_have_text("fake-openai (openai-compatible)")  # preselected
    page.fill("#primary-model", "gpt-4o")
    page.fill("#primary-max-retries", "2")
    page.fill("#primary-timeout-ms", "30000")
    expect(page.locator("#resource-allow-overrides")).to_be_checked()  # on by default
    page.locator("#resource-allow-overrides").click()
    page.locator("#tab-fallback").click()
    page.locator("#resource-use-fallback").click()
    page.locator("#fallback-add").click()
    page.fill("#fallback-0-model", "gpt-4o-mini")
    page.fill("#fallback-0-timeout-ms", "5000")
    page.locator("#tab-routing").click()
    page.locator("#resource-routing-enabled").click()
    page.locator("#routing-add-condition").click()
    page.fill("#cond-0-description", "small requests")
    page.fill("#cond-0-if-0-value", "100")  # requestTokens lessThan (the new clause's default)
    page.locator("#cond-0-add-clause").click()
    _choose(page, "#cond-0-if-1-field", "errorRate")
    _choose(page, "#cond-0-if-1-operator", "greaterThan")
    page.fill("#cond-0-if-1-value", "10")
    page.fill("#cond-0-if-1-window", "5")
    page.fill("#cond-0-then-model", "gpt-4o-mini")
    page.fill("#cond-0-then-traffic", "50")
    page.locator("#tab-api-keys").click()
    page.get_by_role("row", name="app-key").get_by_role("checkbox").click()


def _expected(conn_id: str) -> dict[str, Any]:
    slot = {"provider": "openai-compatible", "connectionId": conn_id}
    return {
        "name": "chat", "description": "Chat for the app",
        "model": {**slot, "model": "gpt-4o", "maxRetries": 2, "timeoutMs": 30000},
        "secondaryModels": [], "useFallback": True,
        "fallbackModels": [{**slot, "model": "gpt-4o-mini", "maxRetries": 0, "timeoutMs": 5000}],
        "routing": {"enabled": True, "conditions": [{
            "description": "small requests", "enabled": True,
            "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100},
                   {"field": "errorRate", "operator": "greaterThan", "value": 10, "window": 5}],
            "then": {**slot, "model": "gpt-4o-mini", "maxRetries": 0, "traffic": 50},
        }]},
        "capacity": [], "enforceCapacity": False, "defaultArgs": {}, "allowOverrides": False, "budgets": [],
    }


def test_connection_and_resource_through_the_forms(page: Page, console_url: str, console_api: httpx.Client,
                                                   ai_env: dict[str, Any], fake_upstream: Any,
                                                   screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/ai-connections")
    _select_context(page)
    _create_connection(page, fake_upstream, screens_dir)
    # Tested with exactly the saved credentials before saving: the status is the test's, not a guess.
    expect(page.locator('[data-row="fake-openai"]')).not_to_contain_text("not tested")
    expect(page.locator('[data-row="fake-openai"]').get_by_text("ok", exact=True)).to_be_visible()

    # Reloaded from the server: the secret masked (and a password input), everything else as entered.
    page.locator('[data-row="fake-openai"]').get_by_role("link", name="fake-openai", exact=True).click()
    at(page, "/ai-connections/edit")
    page.reload()
    expect(page.locator("#config-apiKey")).to_have_value("********")
    expect(page.locator("#connection-last-test")).to_contain_text("Credentials: ok, tested")
    expect(page.locator("#config-baseUrl")).to_have_value(fake_upstream.openai_url)
    expect(page.locator("#conn-capacity-0-tokens")).to_have_value("50000")
    expect(page.get_by_text("gpt-4o-mini", exact=True)).to_be_visible()
    # Left masked, the key stands for the stored secret: the test call and a save both keep using it.
    page.fill("#connection-description", "The fake upstream")
    page.locator("#connection-test").click()
    expect(page.locator("#test-result-ok")).to_be_visible()
    listed = [r for r in fake_upstream.requests if r.route == "models"]
    assert listed[-1].headers["authorization"] == "Bearer sk-e2e-secret"
    page.locator("#connection-save").click()
    at(page, "/ai-connections")
    conns = console_api.get(f"/v1/ai-connection/{ai_env['base']}").json()["data"]
    assert [(c["name"], c["description"], c["config"]["apiKey"], c["allowedModels"]) for c in conns] == [
        ("fake-openai", "The fake upstream", "********", ["gpt-4o", "gpt-4o-mini"])]
    tested = console_api.post(f"/v1/ai-connection/{ai_env['base']}/{conns[0]['id']}/test")
    assert tested.json()["ok"] is True, tested.text
    assert [r for r in fake_upstream.requests if r.route == "models"][-1].headers["authorization"] == \
        "Bearer sk-e2e-secret"
    conn_id = conns[0]["id"]

    page.goto(f"{console_url}/ai-resources")
    page.locator("#new-resource").click()
    at(page, "/ai-resources/edit")
    _fill_resource(page)
    shot(page, screens_dir, "41-ai-resource-api-keys")
    page.locator("#resource-save").click()
    page.wait_for_url("**/ai-resources/edit?id=*")
    resource_id = page.url.split("id=")[1]

    # Service errors reach the user: a slot naming a model the connection does not allow (400 with the
    # slot path), and a duplicate name (409).
    page.locator("#tab-fallback").click()
    page.fill("#fallback-0-model", "gpt-5")
    page.locator("#resource-save").click()
    expect(page.get_by_role("alert")).to_contain_text("fallbackModels[0].model")
    page.goto(f"{console_url}/ai-resources/edit")
    page.fill("#resource-name", "chat")
    page.fill("#primary-model", "gpt-4o")
    page.locator("#resource-save").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")

    # A fresh load shows everything as saved.
    page.goto(f"{console_url}/ai-resources/edit?id={resource_id}")
    expect(page.locator("#resource-name")).to_have_value("chat")
    expect(page.locator("#primary-model")).to_have_value("gpt-4o")
    expect(page.locator("#primary-max-retries")).to_have_value("2")
    expect(page.locator("#primary-timeout-ms")).to_have_value("30000")
    expect(page.locator("#resource-allow-overrides")).not_to_be_checked()
    page.locator("#tab-fallback").click()
    expect(page.locator("#resource-use-fallback")).to_be_checked()
    expect(page.locator("#fallback-0-model")).to_have_value("gpt-4o-mini")
    page.locator("#tab-routing").click()
    expect(page.locator("#cond-0-description")).to_have_value("small requests")
    expect(page.locator("#cond-0-if-1-field")).to_have_text("errorRate")
    expect(page.locator("#cond-0-if-1-window")).to_have_value("5")
    expect(page.locator("#cond-0-then-traffic")).to_have_value("50")
    shot(page, screens_dir, "42-ai-resource-routing")

    # The API holds exactly that shape, and the key got the resource.
    stored = console_api.get(f"/v1/ai-resource/{ai_env['base']}/{resource_id}").json()
    key = console_api.get(f"/v1/api-key/{ai_env['base']}/{ai_env['key']}").json()
    assert key["resources"] == [resource_id]
    expected = _expected(conn_id)
    assert {k: stored[k] for k in expected} == expected

    # The JSON view shows the same shape; editing it and saving gives what the form would have.
    page.locator("#tab-json").click()
    json_box = page.locator("#resource-json")
    assert json.loads(json_box.input_value()) == expected
    edited = {**expected, "description": "Edited as JSON", "defaultArgs": {"temperature": 0.2},
              "capacity": [{"period": "hour", "requests": 500, "enabled": True}], "enforceCapacity": True}
    json_box.fill(json.dumps(edited, indent=2))
    page.locator("#resource-save").click()
    expect(page.get_by_text("Resource chat saved")).to_be_visible()
    stored = console_api.get(f"/v1/ai-resource/{ai_env['base']}/{resource_id}").json()
    assert {k: stored[k] for k in edited} == edited
    page.reload()
    expect(page.locator("#resource-description")).to_have_value("Edited as JSON")
    page.locator("#tab-capacity").click()
    expect(page.locator("#res-capacity-0-requests")).to_have_value("500")
    expect(page.locator("#resource-enforce-capacity")).to_be_checked()
    shot(page, screens_dir, "43-ai-resource-capacity")


def test_model_pricing_admins_edit_others_read(page: Page, console_url: str, console_api: httpx.Client,
                                               screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/model-pricing")
    page.locator("#new-price").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#price-model").fill("e2e-model")
    dialog.locator("#price-input").fill("1.5")
    dialog.locator("#price-output").fill("6")
    dialog.get_by_role("button", name="Save").click()
    row = page.locator('[data-row="openai/e2e-model"]')
    expect(row).to_contain_text("$1.5")
    shot(page, screens_dir, "44-ai-pricing-admin")
    prices = console_api.get("/v1/model-pricing", params={"model": "e2e-model"}).json()["data"]
    assert [(p["provider"], p["inputPerMillion"], p["outputPerMillion"]) for p in prices] == [("openai", 1.5, 6.0)]

    # Duplicates are refused with the service's message.
    page.locator("#new-price").click()
    dialog.locator("#price-model").fill("e2e-model")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")

    user = console_api.post("/v1/user", json={"email": "pricing-reader@vmx.test", "password": "Reader-pass-123",
                                              "roles": ["read-only"]})
    assert user.status_code == 201, user.text
    page.context.clear_cookies()
    login(page, console_url, "pricing-reader@vmx.test", "Reader-pass-123")
    page.goto(f"{console_url}/model-pricing")
    expect(page.locator('[data-row="openai/e2e-model"]')).to_contain_text("$6")
    expect(page.locator("#new-price")).to_have_count(0)
    expect(page.get_by_label("Edit openai/e2e-model")).to_have_count(0)
    expect(page.get_by_label("Delete openai/e2e-model")).to_have_count(0)
