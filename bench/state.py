"""VM-X state for the benchmark: a fresh embedded data dir, and the objects created through the management API."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
VMX = ROOT / ".venv" / "bin" / "vmx"
ADMIN_EMAIL = "bench-admin@vmx.local"
RESOURCE = "bench-chat"
UPSTREAM_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class BenchTarget:
    """What the load generators need to call VM-X."""

    workspace_id: str
    environment_id: str
    api_key: str

    def completion_path(self) -> str:
        return f"/v1/completion/{self.workspace_id}/{self.environment_id}/chat/completions"


def embedded_env(data_dir: Path, admin_password: str) -> dict[str, str]:
    """The embedded profile: no DATABASE_URL/REDIS_URL, our own data dir, the admin bootstrapped from env."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DATABASE_RO_URL", "REDIS_URL", "REDIS_MODE", "VMX_PORT", "VMX_HOST"}}
    env.update({
        "VMX_DATA_DIR": str(data_dir),
        "VMX_ADMIN_EMAIL": ADMIN_EMAIL,
        "VMX_ADMIN_PASSWORD": admin_password,
        "OTEL_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def fresh_data_dir() -> tuple[Path, str]:
    return Path(tempfile.mkdtemp(prefix="vmx-bench-")), "Bench-" + secrets.token_urlsafe(12)


def migrate(env: dict[str, str], log: Path) -> None:
    with log.open("wb") as out:
        done = subprocess.run([str(VMX), "migrate"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                              timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"vmx migrate failed ({done.returncode}):\n{log.read_text()[-3000:]}")


def chat_body(stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": RESOURCE,
        "messages": [{"role": "system", "content": "You are a concise assistant."},
                     {"role": "user", "content": "Say hello to the benchmark in one short sentence."}],
        "max_tokens": 64,
    }
    if stream:
        body["stream"] = True
    return body


def resource_body(connection_id: str, advanced: bool = False) -> dict[str, Any]:
    """A resource whose routing rule is evaluated on every request but never matches, with a fallback;
    `advanced`: the same rule as a CEL expression."""
    then = {"provider": "openai", "model": "gpt-4o", "connectionId": connection_id, "traffic": 100}
    rule: dict[str, Any] = {"expression": "requestTokens > 1000000"} if advanced else {
        "if": [{"field": "requestTokens", "operator": "greaterThan", "value": 1_000_000}]}
    return {
        "name": RESOURCE,
        "description": "benchmark resource",
        "model": {"provider": "openai", "model": UPSTREAM_MODEL, "connectionId": connection_id},
        "useFallback": True,
        "fallbackModels": [{"provider": "openai", "model": "gpt-4o", "connectionId": connection_id}],
        "routing": {"enabled": True, **({"mode": "advanced"} if advanced else {}), "conditions": [{
            "description": "huge prompts go to the bigger model (never true in the bench)", **rule, "then": then,
        }]},
    }


def _created(resp: httpx.Response, what: str) -> dict[str, Any]:
    if resp.status_code not in (200, 201):
        raise RuntimeError(f"creating {what}: {resp.request.method} {resp.request.url.path} -> "
                           f"{resp.status_code} {resp.text[:1000]}")
    data: dict[str, Any] = resp.json()
    return data


def provision(base_url: str, admin_password: str, upstream_base: str, advanced: bool = False) -> BenchTarget:
    """Log in as the bootstrapped admin and create workspace, environment, connection, resource and key."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        login = http.post("/v1/auth/login", json={"email": ADMIN_EMAIL, "password": admin_password})
        token = _created(login, "a session")["accessToken"]
        http.headers["Authorization"] = f"Bearer {token}"
        ws = _created(http.post("/v1/workspace", json={"name": "bench", "description": "benchmark"}),
                      "the workspace")["id"]
        env = _created(http.post(f"/v1/environment/{ws}", json={"name": "bench"}), "the environment")["id"]
        connection = _created(http.post(f"/v1/ai-connection/{ws}/{env}", json={
            "name": "bench-openai", "provider": "openai",
            "config": {"apiKey": "sk-bench", "baseUrl": f"{upstream_base}/v1"},
        }), "the AI connection")["id"]
        _created(http.post(f"/v1/ai-resource/{ws}/{env}", json=resource_body(connection, advanced)), "the AI resource")
        key = _created(http.post(f"/v1/api-key/{ws}/{env}", json={"name": "bench-key"}), "the API key")
    return BenchTarget(workspace_id=ws, environment_id=env, api_key=key["apiKeyValue"])


def check_completion(base_url: str, target: BenchTarget) -> dict[str, str]:
    """One request before measuring (a bench of 401s or 404s would otherwise look fast); returns the
    `x-vmx-*` headers, which show the model used and that routing ran."""
    resp = httpx.post(base_url + target.completion_path(), json=chat_body(),
                      headers={"Authorization": f"Bearer {target.api_key}"}, timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(f"completion check failed: {resp.status_code} {resp.text[:1000]}")
    if not resp.json().get("choices"):
        raise RuntimeError(f"completion check: no choices in {resp.text[:1000]}")
    return {k: v for k, v in resp.headers.items() if k.startswith("x-vmx-")}
