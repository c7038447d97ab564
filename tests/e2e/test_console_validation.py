"""Field-level validation in a real browser: in the workspace, user, connection and resource forms an error
appears next to the field when it is left (before any submit), in plain words, and goes as soon as the value
is fixed; an empty submit names what is missing next to each field, with no banner saying it again. And an
API key's budgets are edited in its edit dialog and the API then returns them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import at, login
from tests.e2e.test_console_connect import select_context
from tests.support import profile

pytestmark = pytest.mark.browser

WORKSPACE, ENVIRONMENT = "checks-e2e", "prod"
NAME_RULE = "Use letters, digits and punctuation other than : * ?, with no spaces at either end."
PYDANTIC_WORDS = ("String should", "Input should", "pattern", "^")


@pytest.fixture(scope="module")
def env(console_api: httpx.Client) -> dict[str, str]:
    ws = console_api.post("/v1/workspace", json={"name": WORKSPACE}).json()["id"]
    env = console_api.post(f"/v1/environment/{ws}", json={"name": ENVIRONMENT}).json()["id"]
    return {"ws": ws, "env": env}


def _signed_in(page: Page, console_url: str, path: str) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}{path}")
    at(page, path)


def _left_with(page: Page, selector: str, value: str) -> None:
    """Type `value` into the field, then leave it (Tab), as a user moving on to the next field."""
    page.fill(selector, value)
    page.locator(selector).press("Tab")


def _error_on_blur_then_fixed(page: Page, field: str, bad: str, message: str, good: str) -> None:
    error = page.locator(f"#{field}-error")
    page.fill(f"#{field}", bad)
    expect(error).to_have_count(0)  # nothing shouted while typing
    page.locator(f"#{field}").press("Tab")
    expect(error).to_have_text(message)
    expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    page.fill(f"#{field}", good)  # fixed: gone at once, without leaving the field
    expect(error).to_have_count(0)
    expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "false")


def _plain(locator: Locator) -> None:
    text = locator.inner_text()
    assert not any(w in text for w in PYDANTIC_WORDS), text


def test_workspace_form(page: Page, console_url: str, console_api: httpx.Client) -> None:
    _signed_in(page, console_url, "/workspaces")
    page.get_by_role("button", name="New workspace").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator('[title="required"]')).to_have_count(1)  # the name is marked, the description not

    _error_on_blur_then_fixed(page, "workspace-name", "squad:a", NAME_RULE, "squad-a")
    _left_with(page, "#workspace-description", "x" * 501)
    expect(page.locator("#workspace-description-error")).to_have_text("Use at most 500 characters.")
    _plain(dialog)
    page.fill("#workspace-description", "The A squad")
    expect(page.locator("#workspace-description-error")).to_have_count(0)

    # An empty submit names what is missing, next to the field, once (no banner repeating it).
    page.fill("#workspace-name", "")
    dialog.get_by_role("button", name="Create").click()
    expect(page.locator("#workspace-name-error")).to_have_text("Name is required.")
    expect(dialog.get_by_role("alert")).to_have_count(1)
    page.fill("#workspace-name", "squad-a")
    expect(page.locator("#workspace-name-error")).to_have_count(0)
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    names = [w["name"] for w in console_api.get("/v1/workspace").json()["data"]]
    assert "squad-a" in names


def test_user_form(page: Page, console_url: str) -> None:
    _signed_in(page, console_url, "/users")
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    _error_on_blur_then_fixed(page, "user-email", "dora", "Enter an email address like name@example.com.",
                              "dora@vmx.test")
    _error_on_blur_then_fixed(page, "user-password", "short", "Passwords need at least 12 characters.",
                              "Dora-pass-123")

    page.fill("#user-email", "")
    page.fill("#user-password", "")
    dialog.get_by_role("button", name="Create user").click()
    expect(page.locator("#user-email-error")).to_have_text("Email is required.")
    expect(page.locator("#user-password-error")).to_have_text("Password is required.")
    expect(dialog.get_by_role("alert")).to_have_count(2)  # one per field, no banner repeating them
    _plain(dialog)


def test_connection_form(page: Page, console_url: str, env: dict[str, str]) -> None:
    _signed_in(page, console_url, "/ai-connections")
    select_context(page, WORKSPACE, ENVIRONMENT)
    page.goto(f"{console_url}/ai-connections/edit")
    expect(page.locator("#connection-name")).to_be_visible()
    _error_on_blur_then_fixed(page, "connection-name", "open ai:prod", NAME_RULE, "openai-prod")
    _left_with(page, "#connection-name", "")
    expect(page.locator("#connection-name-error")).to_have_text("Name is required.")
    page.locator("#connection-save").click()  # the save says it too, once, next to the field
    expect(page.locator("#connection-name-error")).to_have_text("Name is required.")
    expect(page.get_by_text("Name is required.")).to_have_count(1)
    _left_with(page, "#connection-description", "d" * 501)
    expect(page.locator("#connection-description-error")).to_have_text("Use at most 500 characters.")
    page.fill("#connection-description", "")
    expect(page.locator("#connection-description-error")).to_have_count(0)


def test_resource_form(page: Page, console_url: str, env: dict[str, str]) -> None:
    _signed_in(page, console_url, "/ai-resources")
    select_context(page, WORKSPACE, ENVIRONMENT)
    page.goto(f"{console_url}/ai-resources/edit")
    expect(page.locator("#resource-name")).to_be_visible()
    _error_on_blur_then_fixed(page, "resource-name", "my chat",
                              "Use no spaces and none of : * ? (clients send this name as the model).", "chat")
    _left_with(page, "#primary-model", "")
    expect(page.locator("#primary-model-error")).to_have_text("Model is required.")
    page.fill("#primary-model", "gpt-4o")
    expect(page.locator("#primary-model-error")).to_have_count(0)

    # Default args: a JSON error shows when the field is left and clears the moment the JSON parses.
    error = page.locator("#resource-default-args-error")
    page.fill("#resource-default-args", '{"temperature": ')
    page.locator("#resource-default-args").press("Tab")
    expect(error).to_contain_text("Not valid JSON")
    page.fill("#resource-default-args", '{"temperature": 0.2}')
    expect(error).to_have_count(0)

    # The JSON tab: a syntax error keeps the user there; fixing it clears the error at once.
    page.locator("#tab-json").click()
    json_error = page.locator("#resource-json-error")
    page.fill("#resource-json", '{"name": "chat",')
    page.locator("#resource-json-apply").click()
    expect(json_error).to_contain_text("Not valid JSON")
    page.fill("#resource-json", '{"name": "chat"}')
    expect(json_error).to_have_count(0)


def test_api_key_budgets_are_edited_in_the_edit_dialog(page: Page, console_url: str, console_api: httpx.Client,
                                                       env: dict[str, str]) -> None:
    base = f"/v1/api-key/{env['ws']}/{env['env']}"
    created = console_api.post(base, json={"name": "budgeted"})
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    _signed_in(page, console_url, "/api-keys")
    select_context(page, WORKSPACE, ENVIRONMENT)

    page.get_by_role("button", name="Edit budgeted").click()
    dialog = page.get_by_role("dialog")
    expect(page.locator("#edit-key-name")).to_have_value("budgeted")
    page.locator("#key-budget-add").click()
    _left_with(page, "#key-budget-0-amount", "")
    expect(page.locator("#key-budget-0-amount-error")).to_have_text("Amount is required.")
    page.fill("#key-budget-0-amount", "-5")  # still wrong: the error follows the value
    expect(page.locator("#key-budget-0-amount-error")).to_have_text("Use a value of at least 0.")
    dialog.get_by_role("button", name="Save key").click()  # refused by the API's own rule, said once
    expect(page.locator("#key-budget-error")).to_have_text("Use a value of at least 0.")
    expect(dialog.get_by_role("alert")).to_have_count(1)
    assert console_api.get(f"{base}/{key_id}").json()["budgets"] == []

    page.fill("#key-budget-0-amount", "25")
    expect(dialog.get_by_role("alert")).to_have_count(0)  # fixed: gone at once
    dialog.get_by_role("button", name="Save key").click()
    expect(dialog).to_be_hidden()
    stored: Any = console_api.get(f"{base}/{key_id}").json()["budgets"]
    assert stored == [{"period": "month", "amountUsd": 25.0, "enabled": True}]

    # Opened again, the dialog shows the stored budget.
    page.get_by_role("button", name="Edit budgeted").click()
    expect(page.locator("#key-budget-0-amount")).to_have_value("25")


def test_quick_budget_fields_are_checked_on_blur(page: Page, console_url: str, env: dict[str, str]) -> None:
    """The day / month / lifetime amounts of the environment and API-key dialogs: a wrong amount says so
    when it is left, before any submit; fixing it clears it; an empty one is no budget, not an error."""
    _signed_in(page, console_url, "/environments")
    select_context(page, WORKSPACE, ENVIRONMENT)
    page.get_by_role("button", name="New environment").click()
    dialog = page.get_by_role("dialog")
    _error_on_blur_then_fixed(page, "env-budget_day", "-5", "Use a value of at least 0.", "5")
    _left_with(page, "#env-budget_month", "")
    expect(page.locator("#env-budget_month-error")).to_have_count(0)
    _plain(dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name=f"Edit {ENVIRONMENT}").click()
    _error_on_blur_then_fixed(page, "env-budget_lifetime", "-1", "Use a value of at least 0.", "100")
    page.keyboard.press("Escape")

    page.goto(f"{console_url}/api-keys")
    at(page, "/api-keys")
    page.locator("#new-api-key").click()
    _error_on_blur_then_fixed(page, "key-budget_month", "-0.5", "Use a value of at least 0.", "20")


def test_fallback_and_routing_slots_are_checked_on_blur(page: Page, console_url: str, env: dict[str, str]) -> None:
    """Every model slot, not only the primary: a fallback model left empty, a timeout too short, a routing
    destination's traffic above 100 each say so under the field when it is left, and go once fixed."""
    _signed_in(page, console_url, "/ai-resources")
    select_context(page, WORKSPACE, ENVIRONMENT)
    page.goto(f"{console_url}/ai-resources/edit")
    expect(page.locator("#resource-name")).to_be_visible()
    page.locator("#tab-fallback").click()
    page.locator("#resource-use-fallback").click()
    page.locator("#fallback-add").click()
    _left_with(page, "#fallback-0-model", "")
    expect(page.locator("#fallback-0-model-error")).to_have_text("Model is required.")
    page.fill("#fallback-0-model", "gpt-4o-mini")
    expect(page.locator("#fallback-0-model-error")).to_have_count(0)
    _error_on_blur_then_fixed(page, "fallback-0-timeout-ms", "50", "Use a value of at least 100.", "5000")

    page.locator("#tab-routing").click()
    page.locator("#resource-routing-enabled").click()
    page.locator("#routing-add-condition").click()
    _error_on_blur_then_fixed(page, "cond-0-then-traffic", "150", "Use a value of at most 100.", "50")
    _plain(page.locator("main"))


def test_connection_provider_fields_are_checked_on_blur(page: Page, console_url: str, env: dict[str, str]) -> None:
    """The selected provider's own fields (from its config schema): a base URL that is no URL and an empty
    required API key say so under the field when it is left, and go once fixed."""
    _signed_in(page, console_url, "/ai-connections")
    select_context(page, WORKSPACE, ENVIRONMENT)
    page.goto(f"{console_url}/ai-connections/edit")
    expect(page.locator("#config-baseUrl")).to_be_visible()
    _error_on_blur_then_fixed(page, "config-baseUrl", "api.example.com", "Must be an http(s) URL.",
                              "https://api.example.com/v1")
    _error_on_blur_then_fixed(page, "config-apiKey", "", "API key is required.", "sk-test")
    _plain(page.locator("main"))
