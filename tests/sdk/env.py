"""A workspace + environment + one connection per provider family + an API key, created through the
management API once per test module, and helpers to make resources and read audit rows."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from tests.fakes.upstream import FakeUpstream

FAMILIES: dict[str, str] = {  # provider -> a model the fake answers as
    "openai": "gpt-4o",
    "gemini": "gemini-2.5-flash",
    "groq": "llama-3.3-70b-versatile",
    "perplexity": "sonar",
    "openai-compatible": "local-model",
    "anthropic": "claude-sonnet-4-5",
    "bedrock": "amazon.nova-pro-v1:0",
    "bedrock-invoke": "anthropic.claude-3-haiku-20240307-v1:0",
}
BEDROCK = {"region": "us-east-1", "accessKeyId": "AKIAFAKEFAKEFAKE", "secretAccessKey": "not-a-secret"}


def connection_config(provider: str, fake: FakeUpstream) -> dict[str, Any]:
    if provider in ("bedrock", "bedrock-invoke"):
        return {**BEDROCK, "endpointUrl": fake.url}
    if provider == "anthropic":
        return {"apiKey": "sk-ant-test", "baseUrl": fake.url + "/v1"}
    return {"apiKey": "sk-test", "baseUrl": fake.openai_url}


def check(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


@dataclass
class Env:
    app_url: str
    admin: httpx.Client
    fake: FakeUpstream
    ws: str
    env: str
    key: str
    key_id: str
    connections: dict[str, str] = field(default_factory=dict)  # provider (or name) -> id

    @property
    def base_url(self) -> str:
        return f"{self.app_url}/v1/completion/{self.ws}/{self.env}"

    def slot(self, provider: str, model: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"provider": provider, "model": model or FAMILIES[provider],
                "connectionId": self.connections[provider], **extra}

    def connection(self, name: str, provider: str, config: dict[str, Any], **extra: Any) -> str:
        body = {"name": name, "provider": provider, "config": config, **extra}
        created = check(self.admin.post(f"/v1/ai-connection/{self.ws}/{self.env}", json=body))
        self.connections[name] = created["id"]
        return str(created["id"])

    def resource(self, model: dict[str, Any], name: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"name": name or f"res-{secrets.token_hex(4)}", "model": model, **extra}
        return check(self.admin.post(f"/v1/ai-resource/{self.ws}/{self.env}", json=body))  # type: ignore[no-any-return]

    def update_resource(self, resource_id: str, **fields: Any) -> dict[str, Any]:
        return check(self.admin.put(f"/v1/ai-resource/{self.ws}/{self.env}/{resource_id}", json=fields),  # type: ignore[no-any-return]
                     200)

    def api_key(self, **extra: Any) -> tuple[str, str]:
        body = {"name": f"key-{secrets.token_hex(4)}", **extra}
        created = check(self.admin.post(f"/v1/api-key/{self.ws}/{self.env}", json=body))
        return created["apiKeyValue"], created["id"]

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


def make_env(app_url: str, admin: httpx.Client, fake: FakeUpstream, label: str) -> Env:
    ws = check(admin.post("/v1/workspace", json={"name": f"{label}-{secrets.token_hex(3)}"}))["id"]
    env_id = check(admin.post(f"/v1/environment/{ws}", json={"name": "test"}))["id"]
    created = check(admin.post(f"/v1/api-key/{ws}/{env_id}", json={"name": "sdk"}))
    env = Env(app_url, admin, fake, str(ws), str(env_id), created["apiKeyValue"], str(created["id"]))
    for provider in FAMILIES:
        env.connections[provider] = env.connection(f"{provider}-conn", provider, connection_config(provider, fake))
    return env


# ---- audit rows -------------------------------------------------------------------------------------

_engine: sa.Engine | None = None
_JSON_COLUMNS = ("events", "cost", "request_metadata", "request_payload", "response_payload")


def _db() -> sa.Engine:
    global _engine
    if _engine is None:
        from vmx_app.settings import get_settings

        _engine = sa.create_engine(get_settings().sync_database_url)
    return _engine


def audit_row(request_id: str, timeout_s: float = 3.0) -> dict[str, Any]:
    """The request_audit row of a request, once the batching writer has flushed it."""
    deadline = time.monotonic() + timeout_s
    query = sa.text("SELECT * FROM request_audit WHERE request_id = :rid")
    while True:
        with _db().connect() as conn:
            row = conn.execute(query, {"rid": request_id}).mappings().first()
        if row is not None:
            out = dict(row)
            for name in _JSON_COLUMNS:  # SQLite hands JSON back as text
                if isinstance(out.get(name), str):
                    out[name] = json.loads(out[name])
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"no audit row for request {request_id} after {timeout_s}s")
        time.sleep(0.1)
