"""The audit log and usage pages in a real browser, after real calls through the gateway: the audit page
finds the calls by correlation id and opens the one that fell back with its fallback event; the usage
page's total counts them; the API keys list shows when the key was used and its spend this month."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, login, shot
from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.support import profile

pytestmark = pytest.mark.browser

WORKSPACE, ENVIRONMENT = "audit-e2e", "trail"
CALLS = 3


@pytest.fixture
def traced(console_url: str, console_api: httpx.Client, fake_upstream: FakeUpstream) -> dict[str, Any]:
    ws = console_api.post("/v1/workspace", json={"name": WORKSPACE}).json()["id"]
    env = console_api.post(f"/v1/environment/{ws}", json={"name": ENVIRONMENT}).json()["id"]
    ids = {}
    for name, provider, config in (
            ("oa", "openai", {"apiKey": "sk-test", "baseUrl": fake_upstream.openai_url}),
            ("an", "anthropic", {"apiKey": "sk-ant-test", "baseUrl": fake_upstream.url + "/v1"})):
        r = console_api.post(f"/v1/ai-connection/{ws}/{env}",
                             json={"name": name, "provider": provider, "config": config})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    r = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {"provider": "openai", "model": "e2e-primary", "connectionId": ids["oa"]},
        "useFallback": True,
        "fallbackModels": [{"provider": "anthropic", "model": "claude-sonnet-4-5", "connectionId": ids["an"]}]})
    assert r.status_code == 201, r.text
    key = console_api.post(f"/v1/api-key/{ws}/{env}", json={"name": "e2e-key"}).json()["apiKeyValue"]
    fake_upstream.script("e2e-primary", Behaviour(status=500))  # the first call falls back
    correlation = f"e2e-{uuid.uuid4().hex[:8]}"
    for i in range(CALLS):
        r = httpx.post(f"{console_url}/v1/completion/{ws}/{env}/chat/completions", timeout=30,
                       headers={"Authorization": f"Bearer {key}"},
                       json={"model": "chat", "messages": [{"role": "user", "content": f"hello {i}"}],
                             "vmx": {"correlationId": correlation}})
        assert r.status_code == 200, r.text
    for _ in range(100):  # written by the batching writer within its flush interval
        listed = console_api.get(f"/v1/completion-audit/{ws}/{env}", params={"correlationId": correlation}).json()
        if len(listed["data"]) == CALLS:
            break
        time.sleep(0.1)
    return {"correlation": correlation}


def _pick_environment(page: Page, console_url: str, route: str) -> None:
    page.goto(f"{console_url}{route}")
    at(page, route)
    page.locator('[aria-label="Workspace"]').click()
    page.get_by_role("option", name=WORKSPACE, exact=True).click()
    expect(page.get_by_label("Workspace", exact=True)).to_have_text(WORKSPACE)
    page.locator('[aria-label="Environment"]').click()
    page.get_by_role("option", name=ENVIRONMENT, exact=True).click()
    expect(page.get_by_label("Environment", exact=True)).to_have_text(ENVIRONMENT)


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_audit_usage_and_key_spend_after_gateway_calls(page: Page, console_url: str, traced: dict[str, Any],
                                                       screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    _pick_environment(page, console_url, "/audit")
    page.get_by_label("Correlation id").fill(traced["correlation"])
    page.get_by_role("button", name="Apply").click()
    table = page.get_by_test_id("audit-table")
    expect(table.locator("tbody tr")).to_have_count(CALLS)
    expect(table.get_by_test_id("correlation-link")).to_have_count(CALLS)
    shot(page, screens_dir, "audit-list")
    fell_back = table.locator("tbody tr", has_text="1 event")
    expect(fell_back).to_have_count(1)
    # Connection and API key are picked by name and filter by id: the answer came through "an" once.
    _choose(page, "Connection", "an")
    _choose(page, "API key", "e2e-key")
    page.get_by_role("button", name="Apply").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text("anthropic")
    csv_link = page.get_by_role("link", name="CSV")
    expect(csv_link).to_have_attribute("href", re.compile(r"connectionId=[0-9a-f-]{36}.*apiKeyId=[0-9a-f-]{36}"))
    fell_back.locator("td").first.locator("a").click()
    detail = page.get_by_test_id("audit-detail")
    expect(detail.get_by_test_id("detail-events")).to_contain_text('"type": "fallback"')
    expect(detail.get_by_test_id("detail-events")).to_contain_text('"statusCode": 500')
    expect(detail.get_by_test_id("detail-request")).to_contain_text("hello 0")
    shot(page, screens_dir, "audit-detail")
    page.keyboard.press("Escape")
    table.get_by_test_id("correlation-link").first.click()  # the correlation link: every row of the trace
    expect(table.locator("tbody tr")).to_have_count(CALLS)
    # ... and the filter bar shows what it applies: the connection and key picks are gone.
    expect(page.get_by_label("Connection", exact=True)).to_have_text("Any connection")
    expect(page.get_by_label("API key", exact=True)).to_have_text("Any API key")
    expect(page.get_by_label("Correlation id")).to_have_value(traced["correlation"])

    _pick_environment(page, console_url, "/usage")
    expect(page.get_by_test_id("total-requests")).to_have_text(str(CALLS))
    expect(page.get_by_test_id("total-errors")).to_have_text("0")
    expect(page.get_by_test_id("usage-breakdown")).to_contain_text("chat")
    shot(page, screens_dir, "usage")

    _pick_environment(page, console_url, "/api-keys")
    row = page.locator('[data-row="e2e-key"]')
    cells = row.locator("td")  # Name, Key, Status, Resources, Labels, Expires, Last used, Spend this month
    expect(cells.nth(6)).to_contain_text("UTC")  # lastUsedAt, set after the calls
    expect(cells.nth(7)).to_have_text(re.compile(r"^\$0\.\d*[1-9]"))  # priced calls: more than nothing
