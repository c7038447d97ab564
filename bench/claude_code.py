"""Claude Code (`npx @anthropic-ai/claude-code -p`) with a tool loop through VM-X, on an OpenAI-backed
resource with a non-Claude name (issue 12). A developer runs it; it prints what happened.

Self-contained (default): a fresh embedded VM-X (`vmx gateway`), the fake upstream as OpenAI, a resource
`coder` -> gpt-4o. The fake answers the prompt with a Bash tool call (`echo vmx-tool-loop-ok`); Claude
Code runs it and sends the result back; the fake then answers in text.

    .venv/bin/python -m bench.claude_code
    .venv/bin/python -m bench.claude_code --base-url http://host:8000/v1/completion/WS/ENV --key vmx-... \
        --model my-gpt-resource      # against your own gateway and a real OpenAI connection

Needs node/npx; the package comes from the npm registry (`--version` pins it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.procs import free_port, spawn, stop_all, wait_http
from bench.state import ADMIN_EMAIL, ROOT, _created, embedded_env, fresh_data_dir
from tests.fakes.upstream import Behaviour, FakeUpstream

PROMPT = "VMX-TOOL-LOOP: run `echo vmx-tool-loop-ok` with the Bash tool and tell me what it printed."
CLAUDE_CODE = "@anthropic-ai/claude-code@2.1.332"


def run_claude(base_url: str, key: str, model: str, package: str, workdir: Path) -> dict[str, Any]:
    env = {**os.environ,
           "ANTHROPIC_BASE_URL": base_url.rstrip("/") + "/anthropic",
           "ANTHROPIC_AUTH_TOKEN": key, "ANTHROPIC_API_KEY": "",
           "ANTHROPIC_MODEL": model, "ANTHROPIC_SMALL_FAST_MODEL": model, "ANTHROPIC_DEFAULT_HAIKU_MODEL": model,
           "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "HOME": str(workdir)}  # no user settings or credentials leak in
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("npx not found: install Node.js")
    command = [npx, "-y", package, "-p", PROMPT, "--output-format", "json", "--allowedTools", "Bash",
               "--max-turns", "4"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, check=False)
    out: dict[str, Any] = {"exit_code": done.returncode, "seconds": round(time.monotonic() - started, 1),
                           "stderr": done.stderr[-2000:]}
    try:
        out["result"] = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        out["stdout"] = done.stdout[-2000:]
    return out


def audit_rows(db: Path) -> list[dict[str, Any]]:
    """The embedded database's audit rows (status, model, conversion notes), once the writer flushed."""
    time.sleep(2)  # the audit writer flushes every second
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status_code, model, events FROM request_audit ORDER BY created_at").fetchall()
    return [{"status": status, "model": model,
             "events": [e.get("note") or e.get("type") for e in json.loads(events or "[]")]}
            for status, model, events in rows]


def self_contained(package: str) -> dict[str, Any]:
    data_dir, password = fresh_data_dir()
    env = embedded_env(data_dir, password)
    vmx = [sys.executable, "-m", "vmx_app.cli"]
    subprocess.run([*vmx, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = data_dir / "gateway.log"
    proc = spawn([*vmx, "gateway", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"], env=env,
                 log=log, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    with FakeUpstream() as fake:
        wait_http(base + "/readyz", proc, 60, log)
        fake.script("gpt-4o", Behaviour(when="VMX-TOOL-LOOP", tool_call=(
            "Bash", {"command": "echo vmx-tool-loop-ok", "description": "Print the marker"})))
        with httpx.Client(base_url=base, timeout=30) as http:
            token = _created(http.post("/v1/auth/login", json={"email": ADMIN_EMAIL, "password": password}),
                             "a session")["accessToken"]
            http.headers["Authorization"] = f"Bearer {token}"
            ws = _created(http.post("/v1/workspace", json={"name": "claude-code"}), "the workspace")["id"]
            envid = _created(http.post(f"/v1/environment/{ws}", json={"name": "dev"}), "the environment")["id"]
            conn = _created(http.post(f"/v1/ai-connection/{ws}/{envid}", json={
                "name": "openai", "provider": "openai", "config": {"apiKey": "sk-x", "baseUrl": fake.openai_url}}),
                "the connection")["id"]
            _created(http.post(f"/v1/ai-resource/{ws}/{envid}", json={
                "name": "coder", "model": {"provider": "openai", "model": "gpt-4o", "connectionId": conn}}),
                "the resource")
            key = _created(http.post(f"/v1/api-key/{ws}/{envid}", json={"name": "cc"}), "the key")["apiKeyValue"]
            with tempfile.TemporaryDirectory(prefix="vmx-claude-code-") as workdir:
                outcome = run_claude(f"{base}/v1/completion/{ws}/{envid}", key, "coder", package, Path(workdir))
        calls = [r for r in fake.requests if r.route == "chat"]
        outcome["upstream_calls"] = len(calls)
        outcome["upstream_roles"] = [[m.get("role") for m in (r.json or {}).get("messages", [])] for r in calls]
        outcome["last_user_text"] = [str(((r.json or {}).get("messages") or [{}])[-1].get("content"))[-300:]
                                     for r in calls]
        outcome["tool_result_sent_back"] = any(
            m.get("role") == "tool" and "vmx-tool-loop-ok" in str(m.get("content"))
            for r in calls for m in (r.json or {}).get("messages", []))
        outcome["audit"] = audit_rows(data_dir / "vmx.db")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="…/v1/completion/{ws}/{env} of a running VM-X")
    parser.add_argument("--key", help="a VM-X API key of that environment")
    parser.add_argument("--model", default="coder", help="the resource name (non-Claude, OpenAI-backed)")
    parser.add_argument("--package", default=CLAUDE_CODE, help="the npm package to run")
    args = parser.parse_args()
    try:
        if args.base_url:
            with tempfile.TemporaryDirectory(prefix="vmx-claude-code-") as workdir:
                outcome = run_claude(args.base_url, args.key or "", args.model, args.package, Path(workdir))
        else:
            outcome = self_contained(args.package)
    finally:
        stop_all()
    print(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
