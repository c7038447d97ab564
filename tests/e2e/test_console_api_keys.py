"""API keys in a real browser: created with field errors in plain words, the created dialog's snippet
(filled with the new key) run as copied, edited (name, labels, scope, expiry, enabled, capacity), and
regenerated: the old value refused, the new one shown once and working."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, fake_environment, login, shot
from tests.e2e.test_console_connect import copied, run_snippet, select_context
from tests.support import profile

pytestmark = pytest.mark.browser

WORKSPACE, ENVIRONMENT = "keys-e2e", "prod"


@pytest.fixture(scope="module")
def keys_env(console_api: httpx.Client, fake_upstream: Any) -> dict[str, Any]:
    ws, env, conn = fake_environment(console_api, fake_upstream, WORKSPACE, ENVIRONMENT)
    ids = {}
    for name in ("chat", "batch"):
        r = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
            "name": name, "model": {"provider": "openai-compatible", "model": "gpt-4o", "connectionId": conn}})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return {"ws": ws, "env": env, "resources": ids,
            "base": f"/v1/completion/{ws}/{env}"}


def _key(console_api: httpx.Client, env: dict[str, Any], name: str) -> dict[str, Any]:
    keys = console_api.get(f"/v1/api-key/{env['ws']}/{env['env']}").json()["data"]
    return next(k for k in keys if k["name"] == name)


def _works(console_url: str, env: dict[str, Any], key: str, model: str = "chat") -> bool:
    client = openai.OpenAI(base_url=console_url + env["base"], api_key=key, max_retries=0)
    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        return False
    return True


def test_create_edit_and_regenerate_a_key(page: Page, console_url: str, console_api: httpx.Client,
                                          keys_env: dict[str, Any], screens_dir: Path) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_url)
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/api-keys")
    at(page, "/api-keys")
    select_context(page, WORKSPACE, ENVIRONMENT)

    # Create: a bad name is explained next to the field, in words, once.
    page.locator("#new-api-key").click()
    page.fill("#key-name", "has:colon")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#key-name-error")).to_have_text(
        "Use letters, digits and punctuation other than : * ?, with no spaces at either end.")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_have_count(1)
    page.fill("#key-name", "backend")
    page.fill("#key-labels", "team-a, batch")
    page.get_by_role("button", name="Create key").click()
    value = page.get_by_test_id("new-api-key").inner_text()
    assert value.startswith("vmx-")
    code = copied(page, "new-key-snippet-copy-python-openai")
    assert value in code
    assert run_snippet([sys.executable, "-c"], code).strip() == "Hello from gpt-4o"  # no env var needed
    shot(page, screens_dir, "api-key-created")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("new-api-key")).to_have_count(0)
    row = page.locator('[data-row="backend"]')
    expect(row).to_contain_text("all resources")

    # Edit: rename, labels, scope to `chat`, expiry, capacity (warned while not enforced), then disable.
    page.get_by_role("button", name="Edit backend").click()
    expect(page.locator("#edit-key-name")).to_have_value("backend")
    page.fill("#edit-key-name", " ")
    page.locator("#edit-key-name").blur()
    expect(page.locator("#edit-key-name-error")).to_have_text("Name is required.")
    page.fill("#edit-key-name", "backend-svc")
    expect(page.locator("#edit-key-name-error")).to_have_count(0)
    page.fill("#edit-key-labels", "team-b")
    page.locator("#scope-chat").click()
    page.fill("#edit-key-expires", "2099-12-31")
    page.locator("#key-capacity-add").click()
    page.fill("#key-capacity-0-requests", "100")
    expect(page.locator("#key-capacity-warning")).to_be_visible()
    page.locator("#key-enforce-capacity").click()
    expect(page.locator("#key-capacity-warning")).to_have_count(0)
    shot(page, screens_dir, "api-key-edit")
    page.get_by_role("button", name="Save key").click()
    row = page.locator('[data-row="backend-svc"]')
    expect(row).to_contain_text("chat")
    expect(row).to_contain_text("team-b")
    expect(row).to_contain_text("2099-12-31")
    stored = _key(console_api, keys_env, "backend-svc")
    assert stored["resources"] == [keys_env["resources"]["chat"]] and stored["labels"] == ["team-b"]
    assert stored["capacity"] == [{"period": "minute", "requests": 100, "enabled": True}]
    assert stored["enforceCapacity"] is True
    assert _works(console_url, keys_env, value) and not _works(console_url, keys_env, value, model="batch")

    # Regenerate: the new value is shown once; the old one is refused at once.
    page.get_by_role("button", name="Regenerate backend-svc").click()
    page.get_by_role("button", name="Regenerate", exact=True).click()
    expect(page.get_by_role("dialog")).to_contain_text("API key backend-svc regenerated")
    renewed = page.get_by_test_id("new-api-key").inner_text()
    assert renewed.startswith("vmx-") and renewed != value
    page.get_by_role("button", name="Done").click()
    assert not _works(console_url, keys_env, value) and _works(console_url, keys_env, renewed)

    # Disable from the table switch.
    page.get_by_label("Enabled backend-svc").click()
    expect(page.locator('[data-row="backend-svc"]')).to_contain_text("disabled")
    assert not _works(console_url, keys_env, renewed)


def test_resource_keys_tab_assigns_and_unassigns_in_place(page: Page, console_url: str, console_api: httpx.Client,
                                                          keys_env: dict[str, Any]) -> None:
    chat, batch = keys_env["resources"]["chat"], keys_env["resources"]["batch"]
    base = f"/v1/api-key/{keys_env['ws']}/{keys_env['env']}"
    for name, resources in (("k-only", [chat]), ("k-two", [chat, batch]), ("k-all", [])):
        assert console_api.post(base, json={"name": name, "resources": resources}).status_code == 201
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/api-keys")
    select_context(page, WORKSPACE, ENVIRONMENT)
    page.goto(f"{console_url}/ai-resources/edit?id={chat}")
    expect(page.locator("#resource-name")).to_have_value("chat")
    page.locator("#tab-api-keys").click()

    expect(page.get_by_label("Assign k-only")).to_be_disabled()  # its only resource
    page.get_by_label("Assign k-two").click()  # unassign, at once (no save)
    expect(page.get_by_label("Assign k-two")).not_to_be_checked()
    assert _key(console_api, keys_env, "k-two")["resources"] == [batch]
    page.get_by_label("Assign k-all").click()  # assign: from every resource to this one
    expect(page.get_by_label("Assign k-all")).to_be_checked()
    assert _key(console_api, keys_env, "k-all")["resources"] == [chat]
    expect(page.get_by_label("Assign k-all")).to_be_disabled()  # now its only resource
    page.reload()
    page.locator("#tab-api-keys").click()
    expect(page.get_by_label("Assign k-two")).not_to_be_checked()
    expect(page.get_by_label("Assign k-all")).to_be_checked()
