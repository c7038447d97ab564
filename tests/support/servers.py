"""Start VM-X processes for tests: gateway-only (uvicorn) and console + gateway (Reflex prod)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not up after {timeout_s}s:\n{log.read_text()[-4000:]}")


@contextmanager
def running(command: list[str], *, ready_url: str, env: dict[str, str], log: Path,
            timeout_s: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_until_up(ready_url, proc, timeout_s, log)
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 15) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # SIGTERM: the app flushes what it holds
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def gateway_command(port: int) -> list[str]:
    return [sys.executable, "-m", "vmx_app.cli", "gateway", "--host", "127.0.0.1", "--port", str(port),
            "--no-migrate"]


def console_command(port: int) -> list[str]:
    return [sys.executable, "-m", "vmx_app.cli", "run", "--host", "127.0.0.1", "--port", str(port)]


def tools_env(env: dict[str, str]) -> dict[str, str]:
    env = dict(env)
    env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    return env


@contextmanager
def gateway_with(settings: dict[str, str], log: Path) -> Iterator[str]:
    """A gateway-only process of its own (same database) with some settings changed; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **settings}
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=env, log=log):
        yield url
