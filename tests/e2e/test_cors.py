"""CORS_ALLOWED_ORIGINS, from a real page on another origin in headless Chromium: the browser's preflight
is answered (methods and the SDK headers), the completion fast path and the management API answer the
allowed origin, and a page on an origin not in the list is refused by the browser."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, make_env
from tests.support.servers import free_port, gateway_command, running

PAGE = "<!doctype html><title>other origin</title><p>a page on another origin</p>"
FETCH = """async ([url, init]) => {
  try {
    const r = await fetch(url, init);
    return {status: r.status, requestId: r.headers.get('x-vmx-request-id'), body: await r.text()};
  } catch (e) { return {error: String(e)}; }
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two static sites on 127.0.0.1: the allowed origin and one that is not listed."""
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE)
    servers = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a, **kw: _Quiet(*a, directory=str(root), **kw))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield tuple(f"http://127.0.0.1:{s.server_port}" for s in servers)  # type: ignore[misc]
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


@pytest.fixture(scope="module")
def gateway(origins: tuple[str, str], tmp_path_factory: pytest.TempPathFactory, admin_client: httpx.Client,
            fake_upstream: FakeUpstream, app_url: str) -> Iterator[tuple[str, Env]]:
    env = make_env(app_url, admin_client, fake_upstream, "cors")
    env.resource(env.slot("openai"), name="cors-chat")
    env.resource(env.slot("anthropic"), name="cors-claude")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc_env = dict(os.environ, CORS_ALLOWED_ORIGINS=f"{origins[0]}, https://app.example.com")
    log = tmp_path_factory.mktemp("cors") / "gw.log"
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=log):
        yield url, env


def test_preflight_lists_methods_and_sdk_headers(gateway: tuple[str, Env], origins: tuple[str, str]) -> None:
    url, env = gateway
    r = httpx.options(f"{env.base_url.replace(env.app_url, url)}/chat/completions",
                      headers={"origin": origins[0], "access-control-request-method": "POST",
                               "access-control-request-headers": "authorization, content-type, x-api-key, "
                                                                 "anthropic-version, anthropic-beta"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origins[0]
    assert {"GET", "POST", "PUT", "DELETE"} <= set(r.headers["access-control-allow-methods"].split(", "))
    allowed = {h.strip() for h in r.headers["access-control-allow-headers"].lower().split(",")}
    assert {"authorization", "x-api-key", "anthropic-version", "anthropic-beta", "content-type"} <= allowed
    refused = httpx.options(f"{url}/v1/auth/me", headers={"origin": origins[1],
                                                           "access-control-request-method": "GET"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_browser_on_the_allowed_origin_calls_both_apis(page: Page, gateway: tuple[str, Env],
                                                       origins: tuple[str, str], admin_token: str) -> None:
    url, env = gateway
    page.goto(f"{origins[0]}/index.html")
    completions = f"{url}/v1/completion/{env.ws}/{env.env}"
    chat = page.evaluate(FETCH, [f"{completions}/chat/completions", {
        "method": "POST", "headers": {"authorization": f"Bearer {env.key}", "content-type": "application/json"},
        "body": '{"model": "cors-chat", "messages": [{"role": "user", "content": "hi"}]}'}])
    assert chat.get("status") == 200, chat
    assert chat["requestId"]  # an exposed header the page can read
    claude = page.evaluate(FETCH, [f"{completions}/anthropic/v1/messages", {
        "method": "POST", "headers": {"x-api-key": env.key, "anthropic-version": "2023-06-01",
                                      "anthropic-beta": "tools-2024-04-04", "content-type": "application/json"},
        "body": '{"model": "cors-claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}'}])
    assert claude.get("status") == 200, claude
    me = page.evaluate(FETCH, [f"{url}/v1/auth/me", {"headers": {"authorization": f"Bearer {admin_token}"}}])
    assert me.get("status") == 200 and '"email"' in me["body"], me


def test_browser_on_another_origin_is_refused(page: Page, gateway: tuple[str, Env], origins: tuple[str, str],
                                              admin_token: str) -> None:
    url, env = gateway
    page.goto(f"{origins[1]}/index.html")
    result = page.evaluate(FETCH, [f"{url}/v1/completion/{env.ws}/{env.env}/chat/completions", {
        "method": "POST", "headers": {"authorization": f"Bearer {env.key}", "content-type": "application/json"},
        "body": '{"model": "cors-chat", "messages": [{"role": "user", "content": "hi"}]}'}])
    assert "error" in result and "Failed to fetch" in result["error"]
    me = page.evaluate(FETCH, [f"{url}/v1/auth/me", {"headers": {"authorization": f"Bearer {admin_token}"}}])
    assert "error" in me


def test_without_the_setting_no_origin_is_allowed(tmp_path: Path, origins: tuple[str, str]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=dict(os.environ), log=tmp_path / "gw.log"):
        r = httpx.options(f"{url}/v1/auth/me", headers={"origin": origins[0], "access-control-request-method": "GET"})
    assert "access-control-allow-origin" not in r.headers
