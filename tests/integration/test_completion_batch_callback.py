"""Callback batches (issue 14): signed POSTs of item and batch updates, retried with backoff when the
receiver fails, and refused for private targets unless VMX_BATCH_CALLBACK_ALLOW_PRIVATE=true."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BATCH_CALLBACK_SECRET as SECRET
from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, make_env
from tests.support.batches import chat_items
from tests.support.servers import free_port, gateway_command, running


class Receiver:
    """Records every POST; answers 500 to the first `fail_first` of them."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    status = 500 if len(receiver.received) < receiver.fail_first else 200
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body, status in self.received if status == 200]


@pytest.fixture(scope="module")
def strict_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A process with the default policy (the session's app allows private targets for the receivers)."""
    env = {**os.environ, "VMX_BATCH_CALLBACK_ALLOW_PRIVATE": "false"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tmp_path_factory.mktemp("callback")) / "gw.log"
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=env, log=log):
        yield url


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Env:
    return make_env(app_url, admin_client, fake_upstream, "batch-cb")


def test_updates_are_signed_and_retried(env: Env) -> None:
    res = env.resource(env.slot("openai", f"cb-{secrets.token_hex(3)}"))
    receiver = Receiver(fail_first=2)
    body = {"type": "callback", "items": chat_items(res["name"], 3),
            "callback": {"url": receiver.url, "headers": {"x-hook-token": "t0k"}, "events": "all"}}
    with httpx.Client(base_url=env.app_url, headers=env.headers(), timeout=30) as c:
        r = c.post(f"/v1/completion-batch/{env.ws}/{env.env}", json=body)
        assert r.status_code == 202, r.text
        assert r.json()["callback"]["headers"] == ["x-hook-token"]  # values are not echoed
    deadline = time.monotonic() + 30
    while not any(p["event"] == "batch_update" for p in receiver.accepted()):
        assert time.monotonic() < deadline, receiver.received
        time.sleep(0.1)
    while len([p for p in receiver.accepted() if p["event"] == "item_update"]) < 3:
        assert time.monotonic() < deadline, receiver.received
        time.sleep(0.1)
    accepted = receiver.accepted()
    assert sorted(p["item"]["customId"] for p in accepted if p["event"] == "item_update") == ["c-0", "c-1", "c-2"]
    final = next(p["batch"] for p in accepted if p["event"] == "batch_update")
    assert final["status"] == "COMPLETED" and final["completedItems"] == 3
    assert sum(1 for *_, status in receiver.received if status == 500) == 2  # both failures were retried
    for headers, raw, _ in receiver.received:
        assert headers["x-hook-token"] == "t0k"
        expected = hmac.new(SECRET.encode(), headers["x-vmx-timestamp"].encode() + b"." + raw,
                            hashlib.sha256).hexdigest()
        assert headers["x-vmx-signature"] == f"sha256={expected}"


def test_private_targets_are_refused_by_default(strict_gateway: str, env: Env) -> None:
    res = env.resource(env.slot("openai", "gpt-4o"))
    with httpx.Client(base_url=strict_gateway, headers=env.headers(), timeout=30) as c:
        for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://10.1.2.3/x",
                    "http://[::1]:8080/"):
            r = c.post(f"/v1/completion-batch/{env.ws}/{env.env}", json={
                "type": "callback", "items": chat_items(res["name"], 1), "callback": {"url": url}})
            assert r.status_code == 400, (url, r.text)
            assert r.json()["error"]["details"]["field"] == "callback.url"
