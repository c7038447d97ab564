"""What a gateway call leaves in its audit row, on a real process: bodies capped by
VMX_AUDIT_MAX_PAYLOAD_BYTES, the per-environment off switch effective on the next request, no key or
secret in the row, userId of the key's owner, cost JSON, and the key's lastUsedAt."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from tests.conftest import login
from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, audit_row, make_env
from tests.support import profile
from tests.support.servers import free_port, gateway_command, running
from vmx_app.audit.key_usage import KeyLastUsed
from vmx_app.audit.stores import COLUMNS

CAP = 400


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory, fake_upstream: FakeUpstream) -> Iterator[tuple[Env, httpx.Client]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, VMX_AUDIT_MAX_PAYLOAD_BYTES=str(CAP), VMX_AUDIT_FLUSH_INTERVAL_SECONDS="0.1")
    log = tmp_path_factory.mktemp("capped") / "gw.log"
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=env, log=log), \
            httpx.Client(base_url=url, timeout=30,
                         headers={"Authorization": f"Bearer {login(url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)}"}
                         ) as admin:
        e = make_env(url, admin, fake_upstream, "rows")
        e.resource(e.slot("openai"), name="chat")
        yield e, admin


def _call(env: Env, content: str) -> str:
    r = httpx.post(f"{env.base_url}/chat/completions", headers=env.headers(), timeout=30,
                   json={"model": "chat", "messages": [{"role": "user", "content": content}]})
    assert r.status_code == 200, r.text
    return r.headers["x-vmx-request-id"]


def test_bodies_are_capped_and_carry_no_secret(capped: tuple[Env, httpx.Client]) -> None:
    env, admin = capped
    small, big = audit_row(_call(env, "short")), audit_row(_call(env, "x" * 5000))
    assert small["request_payload"]["messages"][0]["content"] == "short"
    assert small["response_payload"] is not None  # whole or, over the cap, a preview
    assert big["request_payload"]["truncated"] is True and big["request_payload"]["bytes"] > 5000
    assert len(big["request_payload"]["preview"].encode()) <= CAP
    for row in (small, big):
        text = orjson.dumps(row, default=str).decode()
        assert env.key not in text and "sk-test" not in text  # the API key and the provider key
        assert set(row["cost"]) >= {"total", "input", "output", "cached", "reasoning"}
    me = admin.get("/v1/auth/me").json()
    assert str(small["user_id"]).replace("-", "") == str(me["id"]).replace("-", "")  # the key's owner


def test_the_off_switch_applies_to_the_next_request(capped: tuple[Env, httpx.Client]) -> None:
    env, admin = capped
    r = admin.put(f"/v1/environment/{env.ws}/{env.env}", json={"auditStorePayloads": False})
    assert r.status_code == 200, r.text
    off = audit_row(_call(env, "private"))
    assert off["request_payload"] is None and off["response_payload"] is None
    assert admin.put(f"/v1/environment/{env.ws}/{env.env}", json={"auditStorePayloads": True}).status_code == 200
    for _ in range(20):  # on again once the new setting is read (a background load)
        row = audit_row(_call(env, "public"))
        if row["request_payload"] is not None:
            break
        time.sleep(0.05)
    assert row["request_payload"]["messages"][0]["content"] == "public"


def test_last_used_at_is_set_after_calls(capped: tuple[Env, httpx.Client]) -> None:
    env, admin = capped
    row = audit_row(_call(env, "touch"))
    for _ in range(50):
        used = admin.get(f"/v1/api-key/{env.ws}/{env.env}/{env.key_id}").json()["lastUsedAt"]
        if used is not None:
            break
        time.sleep(0.1)
    assert used is not None
    # The first batch of this key (an earlier test's call, within the minute) set it: not later than this row.
    last = datetime.fromisoformat(used.replace("Z", "+00:00"))
    made = row["created_at"] if isinstance(row["created_at"], datetime) else datetime.fromisoformat(row["created_at"])
    made = made.replace(tzinfo=UTC) if made.tzinfo is None else made
    assert made - timedelta(minutes=5) < last <= made


def test_last_used_at_is_written_at_most_once_a_minute_per_key() -> None:
    tracker = KeyLastUsed(min_interval_s=60)
    key, at = COLUMNS.index("api_key_id"), COLUMNS.index("created_at")

    def row(key_id: str, when: str) -> tuple[object, ...]:
        values: list[object] = [None] * len(COLUMNS)
        values[key], values[at] = key_id, when
        return tuple(values)

    rows = [row("a", "2026-12-01 10:00:00.000000"), row("a", "2026-12-01 10:00:05.000000"),
            row("b", "2026-12-01 10:00:01.000000")]
    due = tracker.due(rows, now=1000.0)
    assert {k: v.isoformat() for k, v in due.items()} == {"a": "2026-12-01T10:00:05+00:00",
                                                          "b": "2026-12-01T10:00:01+00:00"}
    tracker._updated.update(dict.fromkeys(due, 1000.0))
    assert tracker.due(rows, now=1059.0) == {}  # within the minute: no UPDATE
    assert set(tracker.due(rows, now=1060.0)) == {"a", "b"}


def test_spool_size_is_in_readyz(capped: tuple[Env, httpx.Client]) -> None:
    env, _ = capped
    ready = httpx.get(f"{env.app_url}/readyz").json()
    assert ready["checks"]["auditSpool"] == {"ok": True, "bytes": 0}
