"""The role editor's statement view and JSON view in a real browser: a policy built from statements (effect,
actions from the catalog, wildcard resources) shows as JSON, a JSON edit shows as statements, what is
saved is what was shown, and a stored policy opens in the JSON view exactly as the API returns it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, login, shot
from tests.support import profile

pytestmark = pytest.mark.browser


def _add(page: Page, kind: str, index: int, value: str) -> None:
    page.fill(f"#stmt-{kind}-{index}", value)
    page.locator(f"#stmt-{kind}-add-{index}").click()


def test_statements_and_json_round_trip(page: Page, console_url: str, console_api: httpx.Client,
                                        screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/roles")
    at(page, "/roles")
    page.get_by_role("button", name="New role").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("key-keeper")

    # The template opens as one statement; replace it with two built in the statement view.
    dialog.get_by_label("Remove statement 1").click()
    dialog.locator("#policy-add-statement").click()
    _add(page, "action", 0, "api-key:*")
    _add(page, "resource", 0, "workspace:*:environment:*:api-key:*")
    dialog.locator("#policy-add-statement").click()
    dialog.get_by_label("Effect of statement 2").click()
    page.get_by_role("option", name="Deny").click()
    _add(page, "action", 1, "API-KEY:DELETE")  # actions are lowercase identifiers
    _add(page, "resource", 1, "*")
    expect(dialog.locator('[data-statement="1"]')).to_contain_text("api-key:delete")
    shot(page, screens_dir, "role-statements")

    dialog.locator("#policy-tab-json").click()
    shown = json.loads(dialog.get_by_label("Policy (JSON)").input_value())
    assert shown["statements"] == [
        {"effect": "allow", "actions": ["api-key:*"], "resources": ["workspace:*:environment:*:api-key:*"]},
        {"effect": "deny", "actions": ["api-key:delete"], "resources": ["*"]}]

    # A JSON edit shows in the statements; a broken one is explained at once and cleared once fixed.
    shown["statements"][1]["actions"].append("api-key:update")
    dialog.get_by_label("Policy (JSON)").fill(json.dumps(shown)[:-2])
    dialog.locator("#policy-tab-statements").click()
    expect(dialog.locator("#role-policy-error")).to_contain_text("not valid JSON")
    dialog.get_by_label("Policy (JSON)").fill(json.dumps(shown))
    expect(dialog.locator("#role-policy-error")).to_have_count(0)
    dialog.locator("#policy-tab-statements").click()
    expect(dialog.locator('[data-statement="1"]')).to_contain_text("api-key:update")

    dialog.get_by_role("button", name="Save role").click()
    expect(dialog).to_be_hidden()
    stored = next(r for r in console_api.get("/v1/role").json()["data"] if r["name"] == "key-keeper")
    assert stored["policy"]["statements"] == shown["statements"]

    # Reopened: the JSON view is exactly the stored document.
    page.get_by_label("Edit key-keeper").click()
    dialog.locator("#policy-tab-json").click()
    assert json.loads(dialog.get_by_label("Policy (JSON)").input_value()) == stored["policy"]
    assert dialog.get_by_label("Policy (JSON)").input_value() == json.dumps(stored["policy"], indent=2)
