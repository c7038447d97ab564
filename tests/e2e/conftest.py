"""Browser tests: the console (`vmx run`, Reflex prod build) on a free port, driven by headless Chromium.

Fixtures:
- `console_url`   one console + gateway process per session, on this run's storage profile, with
                  OIDC SSO configured against `oidc_issuer` (a real provider run with Node).
- `console_api`   an httpx client on that process, signed in as the first admin (bearer token).
- `browser`       Debian's chromium through Playwright (never `playwright install`).
- `page`          a fresh browser context (cookies, localStorage) per test.
- `login(page, console_url, email, password)` signs in through the login form.
- `shot(page, name)` saves a screenshot under `screens_dir` for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.support import profile
from tests.support.servers import ROOT, console_command, free_port, running, tools_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000


def private_web_dir(target: Path) -> Path | None:
    """A copy of `.web` (compiled pages, build output) with `node_modules` linked, not copied.

    Reflex compiles pages and writes `env.json` (with this run's port) into its web dir; a private one
    keeps a concurrent `vmx run` from another checkout user or profile from overwriting ours."""
    shared = ROOT / ".web"
    if not (shared / "node_modules").is_dir():
        return None  # first run on this machine: let Reflex set up the shared dir itself
    target.mkdir(parents=True)
    for entry in shared.iterdir():
        if entry.name in ("node_modules", "build"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, target / entry.name)
    (target / "node_modules").symlink_to(shared / "node_modules", target_is_directory=True)
    return target


OIDC_CLIENT_ID = "vmx-console"
OIDC_CLIENT_SECRET = "e2e-client-secret"
OIDC_PROVIDER = ROOT / "tests" / "fakes" / "oidc_provider"


@pytest.fixture(scope="package")
def console_port() -> int:
    return free_port()


@pytest.fixture(scope="package")
def oidc_issuer(console_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenID provider (npm `oidc-provider`, devInteractions: any login name is accepted and
    becomes the email) that knows the console's callback."""
    if not (OIDC_PROVIDER / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(f"oidc-provider is not installed: run `npm ci --prefix {OIDC_PROVIDER}`")
    port = free_port()
    env = dict(os.environ, PORT=str(port), CLIENT_ID=OIDC_CLIENT_ID, CLIENT_SECRET=OIDC_CLIENT_SECRET,
               REDIRECT_URI=f"http://localhost:{console_port}/v1/auth/oidc/callback")
    issuer = f"http://127.0.0.1:{port}"
    with running(["node", str(OIDC_PROVIDER / "index.js")], ready_url=f"{issuer}/.well-known/openid-configuration",
                 env=env, log=tmp_path_factory.mktemp("oidc") / "provider.log", timeout_s=30):
        yield issuer


@pytest.fixture(scope="package")
def console_url(console_port: int, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("console")
    # The frontend talks to the backend at VMX_BASE_URL: the browser must use the same host, or the
    # session cookie set by the page's origin never reaches the websocket.
    url = f"http://localhost:{console_port}"
    env = tools_env(dict(os.environ))
    env.update({
        "VMX_BASE_URL": url,
        "REFLEX_STATES_WORKDIR": str(work / "states"),
        "OIDC_FEDERATED_ISSUER": oidc_issuer,
        "OIDC_FEDERATED_CLIENT_ID": OIDC_CLIENT_ID,
        "OIDC_FEDERATED_CLIENT_SECRET": OIDC_CLIENT_SECRET,
        "OIDC_FEDERATED_DEFAULT_ROLE": "power-user",
    })
    web = private_web_dir(work / "web")
    if web is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web)
    with running(console_command(console_port), ready_url=f"http://127.0.0.1:{console_port}/readyz", env=env,
                 log=work / "console.log", timeout_s=180):
        yield url


@pytest.fixture(scope="package")
def console_api(console_url: str) -> Iterator[httpx.Client]:
    token = httpx.post(f"{console_url}/v1/auth/login",
                       json={"email": profile.ADMIN_EMAIL, "password": profile.ADMIN_PASSWORD}).json()["accessToken"]
    with httpx.Client(base_url=console_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        yield client


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    # No internet here: fail other hosts at once (the provider's pages import a web font).
    context.route(re.compile(r"^https?://(?!localhost[:/]|127\.0\.0\.1[:/])"), lambda route: route.abort())
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="package")
def screens_dir() -> Path:
    path = Path("/tmp") / f"vmx-e2e-screens-{profile.PROFILE}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def login(page: Page, console_url: str, email: str, password: str) -> None:
    page.goto(f"{console_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def at(page: Page, path: str) -> None:
    """Wait until the page shows `path` (the production build may add a trailing slash)."""
    page.wait_for_url(re.compile(rf"^[^?#]*{re.escape(path)}/?([?#].*)?$"))


def shot(page: Page, screens_dir: Path, name: str) -> None:
    page.screenshot(path=str(screens_dir / f"{name}.png"), full_page=True)


def fake_environment(console_api: httpx.Client, fake_upstream: Any, workspace: str,
                     environment: str) -> tuple[str, str, str]:
    """A new workspace and environment with an OpenAI-compatible connection `fake` to the fake upstream:
    (workspace id, environment id, connection id)."""
    ws = console_api.post("/v1/workspace", json={"name": workspace}).json()["id"]
    env = console_api.post(f"/v1/environment/{ws}", json={"name": environment}).json()["id"]
    conn = console_api.post(f"/v1/ai-connection/{ws}/{env}", json={
        "name": "fake", "provider": "openai-compatible",
        "config": {"apiKey": "sk-fake", "baseUrl": fake_upstream.openai_url}})
    assert conn.status_code == 201, conn.text
    return ws, env, conn.json()["id"]
