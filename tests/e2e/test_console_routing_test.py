"""The resource editor's "Test routing" panel in a real browser: a saved rule hit by the default sample,
missed by a long one, an unsaved edit of the rule tried before saving, bad input shown as an error, and a
read-only member not offered it (the API's `ai-resource:routing-test` refuses that role too)."""

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

WORKSPACE, ENVIRONMENT = "routing-test-e2e", "dry-run"
VIEWER_EMAIL, VIEWER_PASSWORD = "routing-viewer@vmx.test", "Routing-viewer-1"


@pytest.fixture
def routed_resource(console_api: httpx.Client) -> dict[str, Any]:
    """A resource whose only rule sends small requests (requestTokens < 100) to gpt-4o-mini, and a
    read-only member of its workspace."""
    ws = console_api.post("/v1/workspace", json={"name": WORKSPACE}).json()["id"]
    env = console_api.post(f"/v1/environment/{ws}", json={"name": ENVIRONMENT}).json()["id"]
    conn = console_api.post(f"/v1/ai-connection/{ws}/{env}", json={
        "name": "openai-main", "provider": "openai", "config": {"apiKey": "sk-never-called"}})
    assert conn.status_code == 201, conn.text
    slot = {"provider": "openai", "connectionId": conn.json()["id"]}
    resource = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {**slot, "model": "gpt-4o"},
        "routing": {"enabled": True, "conditions": [{
            "description": "small requests",
            "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100}],
            "then": {**slot, "model": "gpt-4o-mini"}}]}})
    assert resource.status_code == 201, resource.text
    viewer = console_api.post("/v1/user", json={"email": VIEWER_EMAIL, "password": VIEWER_PASSWORD,
                                                "roles": ["read-only"]})
    assert viewer.status_code == 201, viewer.text
    assigned = console_api.post(f"/v1/workspace/{ws}/assign", json={"userIds": [viewer.json()["id"]],
                                                                    "role": "MEMBER"})
    assert assigned.status_code == 204, assigned.text
    resource_id = resource.json()["id"]
    return {"id": resource_id, "url": f"/v1/ai-resource/{ws}/{env}/{resource_id}"}


def _choose(page: Page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option, exact=True).click()


def _open_routing_tab(page: Page, console_url: str, resource_id: str) -> None:
    page.goto(f"{console_url}/ai-resources")
    at(page, "/ai-resources")
    _choose(page, '[aria-label="Workspace"]', WORKSPACE)
    expect(page.get_by_label("Workspace", exact=True)).to_have_text(WORKSPACE)
    _choose(page, '[aria-label="Environment"]', ENVIRONMENT)
    expect(page.get_by_label("Environment", exact=True)).to_have_text(ENVIRONMENT)
    page.goto(f"{console_url}/ai-resources/edit?id={resource_id}")
    expect(page.locator("#resource-name")).to_have_value("chat")
    page.locator("#tab-routing").click()


def _run(page: Page, sample: dict[str, Any] | str | None = None) -> None:
    if sample is not None:
        page.fill("#routing-test-sample", sample if isinstance(sample, str) else json.dumps(sample))
    page.locator("#routing-test-run").click()


def test_routing_panel_tries_the_unsaved_rules_on_a_sample(page: Page, console_url: str, console_api: httpx.Client,
                                                          routed_resource: dict[str, Any],
                                                          screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    _open_routing_tab(page, console_url, routed_resource["id"])

    # Prefilled with a small chat body for this resource: it hits the rule.
    sample = page.locator("#routing-test-sample")
    expect(sample).to_have_value(json.dumps({"model": "chat", "messages": [{"role": "user", "content": "Hello"}]},
                                            indent=2))
    _run(page)
    expect(page.locator("#routing-test-action")).to_have_text("route")
    expect(page.locator("#routing-test-condition")).to_contain_text("#1 small requests")
    expect(page.locator("#routing-test-model")).to_contain_text("openai/gpt-4o-mini")
    expect(page.locator("#routing-test-trace")).to_contain_text("conditions[0] (small requests)")
    shot(page, screens_dir, "45-ai-resource-routing-test")

    # A long message misses it: the primary model is used.
    long_sample = {"model": "chat", "messages": [{"role": "user", "content": "word " * 300}]}
    _run(page, long_sample)
    expect(page.locator("#routing-test-action")).to_have_text("none")
    expect(page.locator("#routing-test-condition")).to_have_text("Condition none matched")
    expect(page.locator("#routing-test-model")).to_contain_text("openai/gpt-4o")

    # The rule as edited, unsaved, decides: a higher limit takes the long message too.
    page.fill("#cond-0-if-0-value", "100000")
    _run(page)
    expect(page.locator("#routing-test-action")).to_have_text("route")
    stored = console_api.get(routed_resource["url"]).json()
    assert stored["routing"]["conditions"][0]["if"][0]["value"] == 100  # tried, not saved

    # Bad input is an error, not a crash; a good sample afterwards works again.
    _run(page, '{"model": "chat", "messages": [')
    expect(page.locator("#routing-test-error")).to_contain_text("not valid JSON")
    expect(page.locator("#routing-test-action")).to_have_count(0)
    page.fill("#cond-0-if-0-value", "")
    _run(page, long_sample)
    expect(page.locator("#routing-test-error")).to_contain_text("conditions[0].if[0].value")
    page.fill("#cond-0-if-0-value", "100")
    _run(page)
    expect(page.locator("#routing-test-action")).to_have_text("none")
    expect(page.locator("#routing-test-error")).to_have_count(0)

    # A read-only member is offered neither Save nor the test, as the API refuses them both.
    page.context.clear_cookies()
    login(page, console_url, VIEWER_EMAIL, VIEWER_PASSWORD)
    _open_routing_tab(page, console_url, routed_resource["id"])
    expect(page.locator("#resource-save")).to_be_disabled()
    expect(page.locator("#routing-test-run")).to_be_disabled()
    expect(page.locator("#routing-test-action")).to_have_count(0)
