"""Key rotation: every secret moves to the new key, nothing is lost to a concurrent edit, and reads
keep working throughout (in this database, and end to end through `vmx rotate-key` on a key file)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ROOT
from vmx_app.db import session_scope
from vmx_app.models import AIConnection
from vmx_app.models.ai_connection import AIConnectionCreate, AIConnectionUpdate
from vmx_app.services import ai_connections
from vmx_app.services.key_rotation import rotate_connections
from vmx_app.vault import DecryptionError, SodiumVault, encode_key, generate_key, key_id
from vmx_app.vault.runtime import set_vault
from vmx_app.vault.sodium import PROVIDER

KEY_A, KEY_B = generate_key(), generate_key()


async def _rows(env_id: uuid.UUID) -> list[AIConnection]:
    from sqlmodel import select

    async with session_scope() as session:
        return list((await session.exec(select(AIConnection).where(AIConnection.environment_id == env_id))).all())


async def test_rotation_reencrypts_everything_while_reads_and_writes_go_on(admin_client: httpx.Client) -> None:
    ws = uuid.UUID(admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"])
    env = uuid.UUID(admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"])
    set_vault(SodiumVault(KEY_A))  # this process writes under key A
    try:
        expected: dict[str, str] = {}
        for i in range(40):
            async with session_scope() as session:
                row = await ai_connections.create_connection(
                    session=session, workspace_id=ws, environment_id=env, user_id=None,
                    data=AIConnectionCreate.model_validate({"name": f"c{i}", "provider": "groq",
                                                            "config": {"apiKey": f"secret-{i}"}}))
            expected[str(row.id)] = f"secret-{i}"

        # A process that already accepts both keys reads during the whole rotation.
        reader = SodiumVault(KEY_A, [KEY_B])
        failures: list[str] = []
        reads = 0
        rotating = True

        async def read_loop() -> None:
            nonlocal reads
            while rotating:
                for row in await _rows(env):
                    try:
                        assert reader.decrypt(row.config["apiKey"], {"connectionId": str(row.id)})
                    except DecryptionError as exc:
                        failures.append(str(exc))
                reads += 1
                await asyncio.sleep(0)

        async def edit_loop() -> None:
            # Edits keep landing under the old key while the rotation runs: none may be lost.
            for i in range(0, 40, 8):
                async with session_scope() as session:
                    row = next(r for r in await _rows(env) if r.name == f"c{i}")
                    row = await session.get(AIConnection, row.id)  # type: ignore[assignment]
                    await ai_connections.update_connection(
                        session=session, row=row, user_id=None,
                        data=AIConnectionUpdate.model_validate({"config": {"apiKey": f"edited-{i}"}}))
                expected[str(row.id)] = f"edited-{i}"
                await asyncio.sleep(0.005)

        rotation_vault = SodiumVault(KEY_B, [KEY_A])
        readers = asyncio.create_task(read_loop())
        edits = asyncio.create_task(edit_loop())
        changed = await rotate_connections(rotation_vault, environment_id=env)
        await edits
        changed += await rotate_connections(rotation_vault, environment_id=env)  # catches late edits
        rotating = False
        await readers

        assert failures == [] and reads > 1
        assert changed >= 40
        only_b = SodiumVault(KEY_B)
        for row in await _rows(env):
            token = row.config["apiKey"]
            assert token.split(":")[:3] == ["v1", PROVIDER, key_id(KEY_B)]
            assert only_b.decrypt(token, {"connectionId": str(row.id)}) == expected[str(row.id)]
            with pytest.raises(DecryptionError):
                SodiumVault(KEY_A).decrypt(token, {"connectionId": str(row.id)})
        assert await rotate_connections(rotation_vault, environment_id=env) == 0  # nothing left to do
    finally:
        set_vault(None)


_SCRIPT = r"""
import asyncio, json, subprocess, sys, uuid
from vmx_app.migrations import upgrade_to_head
upgrade_to_head()
from vmx_app.db import session_scope
from vmx_app.models import AIConnection, Environment, Workspace
from vmx_app.services.ai_connections import CredentialsUnreadable, decrypt_config, encrypt_config
from vmx_app.vault.runtime import get_vault
from sqlmodel import select

N = 100

async def rows():
    async with session_scope() as session:
        return list((await session.exec(select(AIConnection))).all())

async def main():
    async with session_scope() as session:
        ws = Workspace(name="w"); session.add(ws); await session.flush()
        env = Environment(workspace_id=ws.id, name="e"); session.add(env); await session.flush()
        for i in range(N):
            row = AIConnection(workspace_id=ws.id, environment_id=env.id, name=f"c{i}", provider="openai")
            row.config = await encrypt_config("openai", {"apiKey": f"secret-{i}"}, row.id)
            session.add(row)
    old_kid = get_vault().current_key_id
    cli = await asyncio.create_subprocess_exec(sys.executable, "-m", "vmx_app.cli", "rotate-key", "--new-key",
                                               sys.argv[1], stdout=subprocess.PIPE)
    reads = mixed = failures = 0
    while cli.returncode is None:
        kids = set()
        for row in await rows():
            try:
                plain = await decrypt_config(row.provider, row.config, row.id)
                assert plain["apiKey"] == "secret-" + row.name[1:]
            except (CredentialsUnreadable, AssertionError):
                failures += 1
            kids.add(row.config["apiKey"].split(":")[2])
        reads += 1
        mixed += len(kids) > 1
        await asyncio.sleep(0.002)  # leave the CPU to the rotating process
        try:
            await asyncio.wait_for(cli.wait(), 0.001)
        except asyncio.TimeoutError:
            pass
    out = (await cli.stdout.read()).decode()
    kids = {row.config["apiKey"].split(":")[2] for row in await rows()}
    print(json.dumps({"reads": reads, "mixed": mixed, "failures": failures, "cli": out, "old": old_kid,
                      "now": sorted(kids), "vault": get_vault().current_key_id}))

asyncio.run(main())
"""


def test_vmx_rotate_key_on_the_embedded_key_file(tmp_path: Path) -> None:
    """A separate embedded install: its own data dir, SQLite file and key file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "LIBSODIUM_"))}
    env.update(VMX_DATA_DIR=str(tmp_path), ENCRYPTION_PROVIDER="libsodium")
    new_key = encode_key(KEY_B)
    done = subprocess.run([sys.executable, "-c", _SCRIPT, new_key], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "re-encrypted 100 connection(s)" in report["cli"]
    assert report["failures"] == 0
    assert report["reads"] > 1 and report["mixed"] >= 1, report  # reads ran while rows were half rotated
    assert report["now"] == [key_id(KEY_B)] and report["vault"] == key_id(KEY_B)  # the reader moved on too
    key_file = tmp_path / "encryption.key"
    assert key_file.read_text().strip() == new_key
    assert (tmp_path / "encryption.key.previous").read_text().split() != []
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    # Run again without a key: one is generated, the old ones stay readable as previous keys.
    again = subprocess.run([sys.executable, "-m", "vmx_app.cli", "rotate-key"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "re-encrypted 100 connection(s)" in again.stdout
    assert key_file.read_text().strip() != new_key
    assert new_key in (tmp_path / "encryption.key.previous").read_text().split()
