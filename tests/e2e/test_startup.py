"""Command 1 of the README, from an empty data directory: migrate, create the admin, serve on one port."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx

from tests.support.servers import ROOT, free_port, running, tools_env


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = tools_env(dict(os.environ))
    for var in ("DATABASE_URL", "DATABASE_RO_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "LIBSODIUM_ENCRYPTION_KEY",
                "VMX_ADMIN_PASSWORD"):
        env.pop(var, None)
    env["VMX_DATA_DIR"] = str(data_dir)
    env["VMX_ADMIN_EMAIL"] = "first@vmx.test"
    return env


def _printed_password(log: Path, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = re.search(r"first@vmx\.test / (\S+) \(change it", log.read_text(errors="replace"))
        if match:
            return match.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no generated password printed:\n{log.read_text()[-3000:]}")


def test_start_command_from_empty_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "start.log"
    command = ["bash", str(ROOT / "scripts" / "start.sh"), "--host", "127.0.0.1", "--port", str(port)]
    with running(command, ready_url=f"{url}/readyz", env=_embedded_env(data_dir), log=log, timeout_s=240):
        ready = httpx.get(f"{url}/readyz").json()
        assert ready["checks"]["migrations"]["ok"] is True
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        page = httpx.get(f"{url}/", follow_redirects=True)
        assert page.status_code == 200 and "<html" in page.text.lower()

        # The embedded profile put everything under the data dir, key file private.
        assert (data_dir / "vmx.db").is_file()
        key_file = data_dir / "encryption.key"
        assert key_file.is_file() and (key_file.stat().st_mode & 0o777) == 0o600

        # The first admin exists with a generated password, printed once, that must be changed.
        password = _printed_password(log)
        assert f"VM-X console: sign in at http://127.0.0.1:{port}/login (admin first@vmx.test created with the " \
               "password printed above)" in log.read_text()
        login = httpx.post(f"{url}/v1/auth/login", json={"email": "first@vmx.test", "password": password})
        assert login.status_code == 200, login.text
        token = login.json()["accessToken"]
        me = httpx.get(f"{url}/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["state"] == "CHANGE_PASSWORD"
