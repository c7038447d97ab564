"""Every console page, at 1280 and 768 px: axe-core (WCAG 2.1 A and AA rules) finds nothing, the page
never scrolls sideways at 768 px (its actions stay on screen), and a screenshot of each is saved under
`test-artifacts/screens/` for CI to keep. Pages are found from the sidebar, so new ones are checked too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import fake_environment, login
from tests.e2e.test_console_connect import select_context
from tests.support import profile
from tests.support.servers import ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / "e2e" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screens"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 768)
WORKSPACE, ENVIRONMENT = "screens-e2e", "prod"


@pytest.fixture(scope="module")
def filled_env(console_api: httpx.Client, fake_upstream: Any) -> dict[str, str]:
    """Something on every page: a connection, a resource, a key, a batch."""
    ws, env, conn = fake_environment(console_api, fake_upstream, WORKSPACE, ENVIRONMENT)
    resource = console_api.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {"provider": "openai-compatible", "model": "gpt-4o", "connectionId": conn}})
    assert resource.status_code == 201, resource.text
    console_api.post(f"/v1/api-key/{ws}/{env}", json={"name": "app", "labels": ["team-a"]})
    batch = console_api.post(f"/v1/completion-batch/{ws}/{env}", json={"items": [
        {"customId": f"a-{i}", "resourceName": "chat", "request": {"messages": [{"role": "user", "content": "hi"}]}}
        for i in range(3)]})
    assert batch.status_code == 202, batch.text
    return {"ws": ws, "env": env, "resource": resource.json()["id"], "connection": conn}


def axe_violations(page: Page) -> list[str]:
    if not AXE.is_file():
        raise RuntimeError(f"axe-core is not installed: run `npm ci --prefix {AXE.parents[2]}`")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in result["violations"]]


def check_page(page: Page, name: str) -> list[str]:
    """Screenshots at both widths; axe and the sideways-scroll check; answers the problems found."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # let the layout settle after the resize
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        problems += [f"{name} @{width}px: {v}" for v in axe_violations(page)]
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{name} @{width}px: scrolls sideways by {overflow}px")
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


def _settle(page: Page) -> None:
    expect(page.locator("h1").first).to_be_visible()
    page.wait_for_load_state("networkidle")


def test_every_page_is_accessible_and_fits_768px(page: Page, console_url: str,
                                                 filled_env: dict[str, str]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    page.goto(f"{console_url}/login")
    _settle(page)
    problems += check_page(page, "login")

    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    page.goto(f"{console_url}/workspaces")
    select_context(page, WORKSPACE, ENVIRONMENT)
    routes = page.locator("[data-nav]").evaluate_all("links => links.map(l => l.getAttribute('data-nav'))")
    assert {"/workspaces", "/connect", "/playground", "/api-keys", "/batches"} <= set(routes)
    extra = [f"/ai-connections/edit?id={filled_env['connection']}", f"/ai-resources/edit?id={filled_env['resource']}",
             "/change-password", "/no-such-page"]
    for route in [*routes, *extra]:
        page.goto(f"{console_url}{route}")
        _settle(page)
        name = route.strip("/").split("?")[0].replace("/", "-") or "home"
        problems += check_page(page, name)
    assert not problems, "\n".join(problems)
    assert len(list(ARTIFACTS.glob("*-768.png"))) >= len(routes)


def test_not_found_page_offers_the_way_back(page: Page, console_url: str) -> None:
    page.goto(f"{console_url}/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text("/no/such/page")).to_be_visible()
    icon = httpx.get(f"{console_url}/favicon.ico")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page.locator("#not-found-home").click()
    page.wait_for_url(lambda url: "/no/such/page" not in url)
