"""The Node clients (openai, @anthropic-ai/sdk, the Vercel AI SDK with @ai-sdk/openai and
@ai-sdk/anthropic), unchanged, on both resources: one Node process runs every case (node/run.mjs), each
case is reported here as its own test. The packages are pinned by node/package-lock.json and installed
by scripts/setup.sh (`npm ci`, with VMX_SETUP_BROWSER=1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clients.cases import hello
from tests.clients.conftest import BACKENDS
from tests.sdk.env import Env

NODE_DIR = Path(__file__).parent / "node"
CLIENTS = ("openai", "anthropic-sdk", "ai-sdk-openai", "ai-sdk-anthropic")
CASES = ("text", "streaming", "tools", "structured", "reasoning_tools")
IDS = [f"{client}-{case}-{backend}" for client in CLIENTS for backend in BACKENDS for case in CASES]


@pytest.fixture(scope="module")
def node_results(clients_env: Env) -> dict[str, dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is not on PATH"
    assert (NODE_DIR / "node_modules" / "ai").is_dir(), \
        "Node client packages missing: run `VMX_SETUP_BROWSER=1 bash scripts/setup.sh` (npm ci in tests/clients/node)"
    env = {**os.environ, "VMX_BASE_URL": clients_env.base_url, "VMX_KEY": clients_env.key,
           "VMX_HELLO": json.dumps({b: hello(b) for b in BACKENDS})}
    proc = subprocess.run([node, "run.mjs"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["name"]: r for r in results}


@pytest.mark.parametrize("case", IDS)
def test_node_client(node_results: dict[str, dict[str, Any]], case: str) -> None:
    result = node_results.get(case)
    assert result is not None, f"run.mjs reported nothing for {case}"
    assert result["ok"], result.get("error")
