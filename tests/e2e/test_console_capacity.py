"""Capacity, budgets and pools in a real browser: the connection editor shows the live use of its minute
limit after completions, the resource editor its budget's spend, the environments page edits the
environment's budgets with their live spend, and the pools page edits pools and shows their shares."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, login, shot
from tests.fakes.upstream import FakeUpstream
from tests.support import profile

pytestmark = pytest.mark.browser

WORKSPACE, ENVIRONMENT = "capacity-e2e", "limits"


def _choose(page: Page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option, exact=True).click()


def _select_env(page: Page, console_url: str) -> None:
    page.goto(f"{console_url}/ai-connections")
    at(page, "/ai-connections")
    _choose(page, '[aria-label="Workspace"]', WORKSPACE)
    expect(page.get_by_label("Workspace", exact=True)).to_have_text(WORKSPACE)
    _choose(page, '[aria-label="Environment"]', ENVIRONMENT)
    expect(page.get_by_label("Environment", exact=True)).to_have_text(ENVIRONMENT)


def _clear_of_the_minutes_end() -> None:
    """The connection's minute window starts on the clock's minute: calls made in its last seconds are
    gone from the live count by the time the page shows it (seen as "0 / 5" once). Start early in one."""
    into = time.time() % 60
    if into > 40:
        time.sleep(60 - into + 0.5)


def test_live_usage_and_pools(page: Page, console_url: str, console_api: httpx.Client, fake_upstream: FakeUpstream,
                              screens_dir: Path) -> None:
    ws = console_api.post("/v1/workspace", json={"name": WORKSPACE}).json()["id"]
    env = console_api.post(f"/v1/environment/{ws}", json={"name": ENVIRONMENT}).json()["id"]
    conn = console_api.post(f"/v1/ai-connection/{ws}/{env}", json={
        "name": "openai-main", "provider": "openai", "config": {"apiKey": "sk", "baseUrl": fake_upstream.openai_url},
        "capacity": [{"period": "minute", "requests": 5, "tokens": 10000}]})
    assert conn.status_code == 201, conn.text
    slot = {"provider": "openai", "model": "gpt-4o", "connectionId": conn.json()["id"]}
    resources = {}
    for name in ("chat", "batch"):
        created = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
            "name": name, "model": slot, "budgets": [{"period": "month", "amountUsd": 10}]})
        assert created.status_code == 201, created.text
        resources[name] = created.json()["id"]
    key = console_api.post(f"/v1/api-key/{ws}/{env}", json={"name": "e2e"}).json()["apiKeyValue"]
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    _select_env(page, console_url)
    _clear_of_the_minutes_end()
    for _ in range(2):
        r = httpx.post(f"{console_url}/v1/completion/{ws}/{env}/chat/completions", headers={
            "Authorization": f"Bearer {key}"}, json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200, r.text
    page.goto(f"{console_url}/ai-connections/edit?id={conn.json()['id']}")
    expect(page.locator("#conn-capacity-0-usage")).to_contain_text("2 / 5 requests")
    expect(page.locator("#conn-capacity-0-usage")).to_contain_text("resets in")
    shot(page, screens_dir, "capacity-connection-usage")

    page.goto(f"{console_url}/ai-resources/edit?id={resources['chat']}")
    expect(page.locator("#resource-name")).to_have_value("chat")
    page.locator("#tab-capacity").click()
    expect(page.locator("#res-budget-0-amount")).to_have_value("10")
    expect(page.locator("#res-budget-0-usage")).to_contain_text("spent / $10.00")
    expect(page.locator("#res-budget-0-usage")).not_to_contain_text("$0.000000 spent")  # gpt-4o is priced

    page.goto(f"{console_url}/pools")
    at(page, "/pools")
    page.locator("#pool-add").click()
    page.locator("#pool-add").click()
    page.fill("#pool-0-name", "interactive")
    page.fill("#pool-0-min_reservation", "70")
    page.fill("#pool-0-resources", "chat")
    page.fill("#pool-1-name", "batch")
    page.fill("#pool-1-min_reservation", "50")
    page.fill("#pool-1-resources", "batch")
    page.locator("#pools-save").click()
    expect(page.get_by_text("definition: the minimum reservations add up to 120 %")).to_be_visible()
    page.fill("#pool-1-min_reservation", "10")
    page.locator("#pools-save").click()
    expect(page.locator("#pool-0-allocation")).to_contain_text("openai-main: 70 % of 10,000 tokens/min")
    expect(page.locator("#pool-1-allocation")).to_contain_text("openai-main: 10 %")
    shot(page, screens_dir, "capacity-pools")
    page.goto(f"{console_url}/environments")
    at(page, "/environments")
    page.get_by_label(f"Edit {ENVIRONMENT}").click()
    page.fill("#env-budget_month", "5")
    page.get_by_role("button", name="Save").click()
    spend = page.locator(f'[data-spend="{ENVIRONMENT}"]')
    expect(spend).to_contain_text("month: $0.000000 spent / $5.00")
    assert console_api.get(f"/v1/environment/{ws}/{env}").json()["budgets"] == [
        {"period": "month", "amountUsd": 5.0, "enabled": True}]
    r = httpx.post(f"{console_url}/v1/completion/{ws}/{env}/chat/completions", headers={
        "Authorization": f"Bearer {key}"}, json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    page.reload()
    expect(spend).to_contain_text("spent / $5.00")
    expect(spend).not_to_contain_text("$0.000000 spent")
    shot(page, screens_dir, "capacity-environment-budget")

    page.goto(f"{console_url}/api-keys")
    at(page, "/api-keys")
    page.get_by_role("button", name="New API key").click()
    page.fill("#key-name", "budgeted-key")
    page.fill("#key-budget_day", "2.5")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-api-key")).to_be_visible()
    page.get_by_role("button", name="Done").click()
    expect(page.locator('[data-spend="budgeted-key"]')).to_contain_text("day: $0.000000 spent / $2.50")
    stored = console_api.get(f"/v1/pool-definition/{ws}/{env}").json()["definition"]
    assert [(p["name"], p["minReservation"], len(p["resources"])) for p in stored] == [
        ("interactive", 70, 1), ("batch", 10, 1)]
