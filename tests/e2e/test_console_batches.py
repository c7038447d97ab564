"""Batches in a real browser: a JSON Lines upload with a bad line is refused naming the line; 20 requests
against the fake upstream run to 100 % and COMPLETED; the drawer lists every item (the one the provider
refused with its error); the results download has one line per request with its customId; a slow batch
is cancelled before all of its items ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, fake_environment, login, shot
from tests.e2e.test_console_a11y import axe_violations
from tests.e2e.test_console_connect import select_context
from tests.fakes.upstream_behaviour import Behaviour
from tests.support import profile

pytestmark = pytest.mark.browser

WORKSPACE, ENVIRONMENT = "batches-e2e", "prod"
SLOW_MODEL = "batch-e2e-slow"
RUN_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def batch_env(console_api: httpx.Client, fake_upstream: Any) -> dict[str, Any]:
    ws, env, conn = fake_environment(console_api, fake_upstream, WORKSPACE, ENVIRONMENT)
    for name, model in (("chat", "gpt-4o"), ("slow", SLOW_MODEL)):
        r = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
            "name": name, "model": {"provider": "openai-compatible", "model": model, "connectionId": conn}})
        assert r.status_code == 201, r.text
    # Slow enough that the cancel lands while the worker's 16 slots hold the first items and the rest wait.
    fake_upstream.set_default(SLOW_MODEL, Behaviour(delay_s=6.0))
    yield {"ws": ws, "env": env, "base": f"/v1/completion-batch/{ws}/{env}"}
    fake_upstream.set_default(SLOW_MODEL, None)


def _jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def _messages(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def _open_create(page: Page, resource: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("One request on each line", exact=False)).to_be_visible()
    page.locator("#batch-resource").click()
    page.get_by_role("option", name=resource, exact=True).click()
    expect(page.locator("#batch-resource")).to_have_text(resource)


def _upload(page: Page, path: Path) -> None:
    page.get_by_role("dialog").locator("input[type=file]").set_input_files(str(path))
    expect(page.get_by_test_id("batch-file-name")).to_have_text(path.name)
    page.locator("#batch-create").click()


def _newest(page: Page) -> Any:
    return page.locator("tr[data-batch]").first


def test_upload_run_download_and_cancel(page: Page, console_url: str, console_api: httpx.Client,
                                        batch_env: dict[str, Any], fake_upstream: Any, tmp_path: Path,
                                        screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/batches")
    at(page, "/batches")
    select_context(page, WORKSPACE, ENVIRONMENT)

    # Empty: the page says what to do, with the button that does it.
    expect(page.get_by_test_id("batches-table-empty")).to_contain_text("Upload a JSON Lines file")
    page.get_by_test_id("first-batch").click()
    _open_create(page, "chat")
    assert axe_violations(page) == []

    # A bad line: refused whole, the message names the file's line (blank lines count).
    good = {"customId": "ok", "resourceName": "chat", "request": _messages("fine")}
    bad = {"customId": "bad", "resourceName": "chat", "request": {"messages": "not a list"}}
    _upload(page, _jsonl(tmp_path / "bad.jsonl", [good, "", bad]))
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("Line 3, request")
    shot(page, screens_dir, "batch-create-error-1280")
    assert console_api.get(batch_env["base"]).json()["total"] == 0

    # 20 requests: items naming their resource, and OpenAI batch lines run on the chosen resource; the
    # provider refuses one of them.
    fake_upstream.script("gpt-4o", Behaviour(status=400, error_message="bad prompt", when="question 7?"))
    lines = [{"customId": f"q-{i}", "resourceName": "chat", "request": _messages(f"question {i}?")}
             for i in range(10)]
    lines += [{"custom_id": f"q-{i}", "method": "POST", "url": "/v1/chat/completions",
               "body": _messages(f"question {i}?")} for i in range(10, 20)]
    _upload(page, _jsonl(tmp_path / "twenty.jsonl", lines))
    expect(page.get_by_role("dialog")).to_have_count(0)
    row = _newest(page)
    expect(row).to_have_attribute("data-status", "COMPLETED", timeout=RUN_TIMEOUT_MS)
    expect(row.get_by_role("progressbar")).to_have_attribute("data-percent", "100")
    expect(row).to_contain_text("20 / 20 (100 %)")
    shot(page, screens_dir, "batches-1280")
    page.set_viewport_size({"width": 768, "height": 900})
    shot(page, screens_dir, "batches-768")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The detail: every item with its status; the results download has each customId once.
    row.get_by_role("button", name="Open batch").click()
    drawer = page.get_by_test_id("batch-detail")
    expect(drawer.locator("tr[data-item]")).to_have_count(20)
    expect(drawer.locator('tr[data-item][data-status="COMPLETED"]')).to_have_count(19)
    expect(drawer.locator('tr[data-item][data-status="FAILED"]')).to_contain_text("bad prompt")
    expect(drawer.locator('tr[data-item][data-status="FAILED"]')).to_contain_text("q-7")
    expect(drawer.get_by_test_id("detail-completed")).to_have_text("19")
    expect(drawer.get_by_test_id("detail-failed")).to_have_text("1")
    # The success toast's own colours are the toaster's (app-wide), not this page's: checked once it is gone.
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    assert axe_violations(page) == []
    page.wait_for_timeout(500)  # the drawer's slide-in, for the screenshot
    shot(page, screens_dir, "batch-detail-1280")
    with page.expect_download() as download:
        page.locator("#batch-download").click()
    results = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    assert len(results) == 20
    assert sorted(r["customId"] for r in results) == sorted(f"q-{i}" for i in range(20))
    by_id = {r["customId"]: r for r in results}
    assert by_id["q-7"]["status"] == "FAILED" and "bad prompt" in json.dumps(by_id["q-7"]["error"])
    assert "response" not in by_id["q-7"]
    assert {r["status"] for r in results if r["customId"] != "q-7"} == {"COMPLETED"}
    assert all(r["response"]["choices"][0]["message"]["content"] for r in results if r["customId"] != "q-7")
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)

    # A slow batch of bare request bodies on the chosen resource, cancelled while it runs.
    page.locator("#new-batch").click()
    _open_create(page, "slow")
    _upload(page, _jsonl(tmp_path / "slow.jsonl", [_messages(f"slow {i}") for i in range(20)]))
    row = _newest(page)
    expect(row).not_to_have_attribute("data-status", "COMPLETED")
    row.get_by_role("button", name="Cancel batch").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel batch").click()
    expect(row).to_have_attribute("data-status", "CANCELLED")
    row.get_by_role("button", name="Open batch").click()
    expect(drawer.locator('tr[data-item][data-status="CANCELLED"]').first).to_be_visible()
    expect(drawer.get_by_role("button", name="Cancel batch")).to_have_count(0)  # nothing left to cancel
    page.wait_for_timeout(500)
    shot(page, screens_dir, "batch-cancelled-1280")
    page.set_viewport_size({"width": 768, "height": 900})
    shot(page, screens_dir, "batch-cancelled-768")
    # The drawer follows the requests that were running at the cancel until the last one has finished.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(drawer.get_by_text("still finishing")).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    expect(drawer.locator('tr[data-item][data-status="RUNNING"]')).to_have_count(0)
    batch_id = row.get_attribute("data-batch")
    stored = console_api.get(f"{batch_env['base']}/{batch_id}").json()
    assert stored["status"] == "CANCELLED"
    assert stored["cancelledItems"] > 0 and stored["completedItems"] + stored["failedItems"] < 20
    assert stored["completedItems"] + stored["failedItems"] + stored["cancelledItems"] == 20
    expect(drawer.get_by_test_id("detail-completed")).to_have_text(str(stored["completedItems"]))
    assert len(fake_upstream.requests_for(SLOW_MODEL)) < 20
