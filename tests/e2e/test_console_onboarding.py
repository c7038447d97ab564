"""A new admin, from an empty database, with nothing but the console: the start-up line says where to sign
in and prints the generated password; the forced password change; each empty page says what to do next
with a button that does it; the getting-started checklist ticks itself from the data; a playground call
succeeds; and the snippet copied from the key-created dialog runs as it is against the live app."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, private_web_dir, shot
from tests.e2e.test_console_connect import copied, run_snippet
from tests.support import profile
from tests.support.servers import console_command, free_port, running, tools_env

pytestmark = pytest.mark.browser

EMAIL = "newcomer@vmx.test"
CHOSEN = "Newcomer-pass-1"


@pytest.fixture(scope="module")
def fresh_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`vmx run` on an empty database of its own, first admin with a generated password."""
    work = tmp_path_factory.mktemp("fresh-console")
    port = free_port()
    url = f"http://localhost:{port}"
    env = tools_env(dict(os.environ))
    env.pop("VMX_ADMIN_PASSWORD", None)
    env.update({"VMX_ADMIN_EMAIL": EMAIL, "VMX_DATA_DIR": str(work / "data"), "VMX_BASE_URL": url,
                "REFLEX_STATES_WORKDIR": str(work / "states")})
    db = None
    if env.get("DATABASE_URL"):
        db = f"vmx_test_{env['VMX_TEST_RUN_ID']}_onboarding"
        profile._pg(f"CREATE DATABASE {db}")
        env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{db}"
        env["REDIS_KEY_PREFIX"] = env.get("REDIS_KEY_PREFIX", "vmx:") + "onboarding:"
    web = private_web_dir(work / "web")
    if web is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web)
    log = work / "console.log"
    try:
        with running(console_command(port), ready_url=f"http://127.0.0.1:{port}/readyz", env=env, log=log,
                     timeout_s=240):
            yield {"url": url, "log": log, "port": port}
    finally:
        if db:
            profile._pg(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def _startup_lines(log: Path) -> tuple[str, str]:
    deadline = time.monotonic() + 20
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        password = re.search(rf"VM-X first admin: {re.escape(EMAIL)} / (\S+) \(change it at first login\)", text)
        sign_in = re.search(r"VM-X console: sign in at (\S+) \((.*)\)", text)
        if password and sign_in:
            return password.group(1), sign_in.group(0)
        time.sleep(0.2)
    raise AssertionError(f"start-up lines missing:\n{text[-3000:]}")


def _step_done(page: Page, step: str) -> None:
    expect(page.locator(f'[data-step="{step}"]')).to_have_attribute("data-done", "true")


def test_new_admin_reaches_a_working_call(page: Page, fresh_console: dict[str, Any], fake_upstream: Any,
                                          screens_dir: Path) -> None:
    url = fresh_console["url"]
    password, sign_in = _startup_lines(fresh_console["log"])
    assert sign_in == (f"VM-X console: sign in at {url}/login "
                       f"(admin {EMAIL} created with the password printed above)")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)

    # Sign in where the start-up line says, then the forced password change.
    page.goto(f"{url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    at(page, "/change-password")
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("Repeat the new password").fill(CHOSEN)
    page.get_by_role("button", name="Change password").click()
    at(page, "/workspaces")

    # Nothing yet: the checklist and the empty table say what to do.
    expect(page.locator("#getting-started")).to_contain_text("5 steps left")
    expect(page.locator('[data-step="workspace"]')).to_have_attribute("data-done", "false")
    shot(page, screens_dir, "onboarding-empty")
    page.get_by_test_id("first-workspace").click()
    page.fill("#workspace-name", "acme")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator('[data-row="acme"]')).to_be_visible()

    page.goto(f"{url}/environments")
    page.get_by_test_id("first-environment").click()
    page.fill("#env-name", "production")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator('[data-row="production"]')).to_be_visible()

    page.goto(f"{url}/ai-connections")
    page.get_by_test_id("first-connection").click()
    at(page, "/ai-connections/edit")
    page.fill("#connection-name", "my-openai")
    page.locator("#connection-provider").click()
    page.get_by_role("option", name="OpenAI-compatible", exact=True).click()
    page.fill("#config-baseUrl", fake_upstream.openai_url)
    page.fill("#config-apiKey", "sk-newcomer")
    page.locator("#connection-save").click()
    at(page, "/ai-connections")
    expect(page.locator('[data-row="my-openai"]')).to_contain_text("not tested")  # saved without a test

    page.goto(f"{url}/ai-resources")
    page.get_by_test_id("first-resource").click()
    at(page, "/ai-resources/edit")
    page.fill("#resource-name", "assistant")
    page.fill("#primary-model", "gpt-4o")
    page.locator("#resource-save").click()
    page.wait_for_url("**/ai-resources/edit?id=*")

    page.goto(f"{url}/workspaces")
    for step in ("workspace", "connection", "resource"):
        _step_done(page, step)
    expect(page.locator('[data-step="api-key"]')).to_have_attribute("data-done", "false")

    # A key, and the snippet of the key-created dialog, run as copied.
    page.goto(f"{url}/api-keys")
    page.get_by_test_id("first-api-key").click()
    page.fill("#key-name", "my-app")
    page.get_by_role("button", name="Create key").click()
    code = copied(page, "new-key-snippet-copy-python-openai")
    assert f"{url}/v1/completion/" in code and '"assistant"' in code
    assert run_snippet([sys.executable, "-c"], code).strip() == "Hello from gpt-4o"
    page.get_by_role("button", name="Done").click()

    # The playground: a call through the gateway.
    page.goto(f"{url}/playground")
    expect(page.locator("#pg-resource")).to_have_text("assistant")
    page.locator("#pg-send").click()
    expect(page.locator("#pg-answer")).to_have_text("Hello from gpt-4o")
    expect(page.locator('[data-decision="Audited"]')).to_contain_text("status 200")

    # Every step done: the checklist steps aside.
    page.goto(f"{url}/workspaces")
    expect(page.locator('[data-row="acme"]')).to_be_visible()
    expect(page.locator("#getting-started")).to_have_count(0)
