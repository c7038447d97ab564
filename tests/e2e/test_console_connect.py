"""The way in, in a real browser: the Connect page shows the environment's ids and gateway URLs, and the
snippets it copies run as they are (Python openai and anthropic, curl) against the live app; the
playground streams an answer through the real gateway with a key of the console session, shows the
gateway's decisions and the audit row, and that key ends with the session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, fake_environment, login, shot
from tests.support import profile

pytestmark = pytest.mark.browser

WORKSPACE, ENVIRONMENT = "connect-e2e", "prod"


@pytest.fixture(scope="module")
def chat_env(console_api: httpx.Client, fake_upstream: Any) -> dict[str, Any]:
    """A workspace/environment with an OpenAI-compatible connection to the fake upstream, a resource
    `chat` on gpt-4o and an API key."""
    ws, env, conn = fake_environment(console_api, fake_upstream, WORKSPACE, ENVIRONMENT)
    resource = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {"provider": "openai-compatible", "model": "gpt-4o",
                                  "connectionId": conn}})
    assert resource.status_code == 201, resource.text
    key = console_api.post(f"/v1/api-key/{ws}/{env}", json={"name": "snippets"}).json()["apiKeyValue"]
    return {"ws": ws, "env": env, "key": key}


def select_context(page: Page, workspace: str, environment: str) -> None:
    page.locator('[aria-label="Workspace"]').click()
    page.get_by_role("option", name=workspace, exact=True).click()
    expect(page.get_by_label("Workspace", exact=True)).to_have_text(workspace)
    page.locator('[aria-label="Environment"]').click()
    page.get_by_role("option", name=environment, exact=True).click()
    expect(page.get_by_label("Environment", exact=True)).to_have_text(environment)


def copied(page: Page, button: str) -> str:
    """Click a copy button and read what it put on the clipboard."""
    page.locator(f'[data-testid="{button}"]').click()
    return str(page.evaluate("navigator.clipboard.readText()"))


def run_snippet(command: list[str], code: str, key: str | None = None) -> str:
    env = dict(os.environ, PYTHONPATH="")
    if key is not None:
        env["VMX_API_KEY"] = key
    done = subprocess.run([*command, code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_connect_page_snippets_run_as_copied(page: Page, console_url: str, chat_env: dict[str, Any],
                                             screens_dir: Path) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_url)
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/connect")
    at(page, "/connect")
    select_context(page, WORKSPACE, ENVIRONMENT)
    expect(page.get_by_test_id("connect-workspace-id")).to_have_text(chat_env["ws"])
    expect(page.get_by_test_id("connect-environment-id")).to_have_text(chat_env["env"])
    base = f"{console_url}/v1/completion/{chat_env['ws']}/{chat_env['env']}"
    expect(page.get_by_test_id("connect-url-Chat Completions")).to_have_text(f"{base}/chat/completions")
    expect(page.get_by_test_id("connect-url-Anthropic SDK base URL")).to_have_text(f"{base}/anthropic")
    expect(page.locator("#connect-resource")).to_have_text("chat")
    shot(page, screens_dir, "connect")

    code = copied(page, "snippet-copy-python-openai")
    assert base in code and '"chat"' in code
    assert run_snippet([sys.executable, "-c"], code, chat_env["key"]).strip() == "Hello from gpt-4o"

    page.get_by_role("tab", name="Python (anthropic)").click()
    code = copied(page, "snippet-copy-python-anthropic")
    assert run_snippet([sys.executable, "-c"], code, chat_env["key"]).strip() == "Hello from gpt-4o"

    page.get_by_role("tab", name="curl").click()
    code = copied(page, "snippet-copy-curl")
    assert "Hello from gpt-4o" in run_snippet(["bash", "-c"], code, chat_env["key"])

    page.get_by_role("tab", name="Claude Code").click()
    expect(page.get_by_test_id("snippet-claude-code")).to_contain_text(f'ANTHROPIC_BASE_URL="{base}/anthropic"')
    expect(page.get_by_test_id("snippet-claude-code")).to_contain_text('ANTHROPIC_MODEL="chat"')


def _playground_keys(console_api: httpx.Client, env: dict[str, Any]) -> list[dict[str, Any]]:
    keys = console_api.get(f"/v1/api-key/{env['ws']}/{env['env']}").json()["data"]
    return [k for k in keys if k["name"].startswith("playground-")]


def test_playground_streams_through_the_gateway_with_a_session_key(
        page: Page, console_url: str, console_api: httpx.Client, chat_env: dict[str, Any],
        screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/playground")
    at(page, "/playground")
    select_context(page, WORKSPACE, ENVIRONMENT)
    expect(page.locator("#pg-resource")).to_have_text("chat")
    page.fill("#pg-system", "Be brief.")
    page.fill("#pg-prompt", "Hello there")
    page.fill("#pg-temperature", "3")
    expect(page.locator("#pg-temperature-error")).to_have_text("Use a value from 0 to 2.")
    page.fill("#pg-temperature", "0.2")
    expect(page.locator("#pg-temperature-error")).to_have_count(0)
    page.fill("#pg-max-tokens", "64")
    page.locator("#pg-send").click()
    expect(page.locator("#pg-answer")).to_have_text("Hello from gpt-4o")
    expect(page.locator('[data-decision="Routed to"]')).to_have_text("gpt-4o (openai-compatible)")
    expect(page.locator('[data-decision="Tokens"]')).to_contain_text("3 out")
    expect(page.locator('[data-decision="Audited"]')).to_contain_text("status 200, key playground-")
    expect(page.locator('[data-decision="Cost"]')).to_be_visible()
    shot(page, screens_dir, "playground")

    keys = _playground_keys(console_api, chat_env)
    assert len(keys) == 1 and keys[0]["labels"] == ["playground"] and keys[0]["expiresAt"]
    page.locator("#pg-send").click()  # a second call reuses the tab's key
    expect(page.locator('[data-decision="Audited"]')).to_contain_text("status 200")
    assert len(_playground_keys(console_api, chat_env)) == 1

    page.get_by_role("button", name="Log out").click()
    at(page, "/login")
    assert _playground_keys(console_api, chat_env) == []  # the key ended with the session
