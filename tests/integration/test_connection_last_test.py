"""A connection's status says only what a test showed: `lastTest` is null until the stored credentials are
tested, `ok` (with the listed models) or `failed` (with the reason) after a test, kept through edits that
leave the credentials alone, and null again once they change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import check


@pytest.fixture(scope="module")
def base(admin_client: httpx.Client) -> str:
    ws = check(admin_client.post("/v1/workspace", json={"name": "last-test"}))["id"]
    env = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}))["id"]
    return f"/v1/ai-connection/{ws}/{env}"


def _get(admin: httpx.Client, base: str, conn_id: str) -> dict[str, Any]:
    return check(admin.get(f"{base}/{conn_id}"), 200)  # type: ignore[no-any-return]


def test_status_follows_the_tests_of_the_current_credentials(admin_client: httpx.Client, base: str,
                                                             fake_upstream: FakeUpstream) -> None:
    created = check(admin_client.post(base, json={
        "name": "fake", "provider": "openai-compatible",
        "config": {"apiKey": "sk-1", "baseUrl": fake_upstream.openai_url}}))
    url = f"{base}/{created['id']}"
    assert created["lastTest"] is None and created["credentialsStatus"] == "ok"  # decrypts, but untested

    assert check(admin_client.post(f"{url}/test"), 200)["ok"] is True
    last = _get(admin_client, base, created["id"])["lastTest"]
    assert last["ok"] is True and last["message"] == "" and "gpt-4o-mini" in last["models"] and last["testedAt"]

    # An edit that keeps the credentials keeps the result; the same form re-sent (masked secret) too.
    check(admin_client.put(url, json={"description": "main"}), 200)
    check(admin_client.put(url, json={"config": {"apiKey": "********", "baseUrl": fake_upstream.openai_url}}), 200)
    assert _get(admin_client, base, created["id"])["lastTest"]["ok"] is True

    # Testing an edited, unsaved form (another key) does not change the stored credentials' status.
    before = _get(admin_client, base, created["id"])["lastTest"]
    tried = check(admin_client.post(f"{url}/test", json={"provider": "openai-compatible",
                                                         "config": {"apiKey": "sk-other",
                                                                    "baseUrl": fake_upstream.openai_url}}), 200)
    assert tried["ok"] is True
    assert _get(admin_client, base, created["id"])["lastTest"] == before

    # New credentials: not tested any more; a failing test says why.
    check(admin_client.put(url, json={"config": {"apiKey": "sk-2", "baseUrl": fake_upstream.refused_url()}}), 200)
    assert _get(admin_client, base, created["id"])["lastTest"] is None
    assert check(admin_client.post(f"{url}/test"), 200)["ok"] is False
    last = _get(admin_client, base, created["id"])["lastTest"]
    assert last["ok"] is False and last["message"] and last["models"] == []
