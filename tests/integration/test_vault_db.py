"""Secrets at rest: no plaintext in the database, ciphertext bound to its connection (a copied value
does not decrypt and the API says so instead of failing), and the aws-kms provider (moto's KMS)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws
from sqlalchemy import select, text, update

from vmx_app.db import session_scope
from vmx_app.models import AIConnection
from vmx_app.models.ai_connection import AIConnectionCreate
from vmx_app.services import ai_connections, config_cache
from vmx_app.services.config_cache import ConnectionCredentialsError
from vmx_app.services.key_rotation import rotate_connections
from vmx_app.settings import get_settings, reset_settings
from vmx_app.vault import KmsVault, token_provider
from vmx_app.vault.runtime import decrypt_secret, get_vault, set_vault


@pytest.fixture
def env(admin_client: httpx.Client) -> tuple[str, str]:
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    return ws, env


_TABLE = AIConnection.__table__  # type: ignore[attr-defined]


async def _raw_config(conn_id: str) -> dict[str, Any]:
    """The row as stored (Core query: no model code between us and the column)."""
    async with session_scope() as session:
        result = await session.exec(select(_TABLE.c.config).where(_TABLE.c.id == uuid.UUID(conn_id)))  # type: ignore[call-overload]
        value = result.scalar_one()
    return value if isinstance(value, dict) else json.loads(value)


def _sqlite() -> bool:
    return get_settings().is_embedded


async def _set_raw_config(conn_id: str, config: dict[str, Any]) -> None:
    async with session_scope() as session:
        await session.exec(update(_TABLE).where(_TABLE.c.id == uuid.UUID(conn_id)).values(config=config))  # type: ignore[call-overload]


async def test_no_plaintext_secret_reaches_the_database(admin_client: httpx.Client, env: tuple[str, str],
                                                        data_dir: Path) -> None:
    marker = f"sk-PLAINTEXT-{uuid.uuid4().hex}"
    aws_marker = f"AWSSECRET{uuid.uuid4().hex}"
    base = f"/v1/ai-connection/{env[0]}/{env[1]}"
    openai = admin_client.post(base, json={"name": "oa", "provider": "openai", "config": {"apiKey": marker}})
    bedrock = admin_client.post(base, json={"name": "br", "provider": "bedrock", "config": {
        "region": "us-east-1", "accessKeyId": "AKIAVISIBLE", "secretAccessKey": aws_marker,
        "sessionToken": aws_marker + "tok"}})
    assert openai.status_code == 201 and bedrock.status_code == 201
    assert marker not in openai.text and aws_marker not in bedrock.text

    raw = await _raw_config(openai.json()["id"])
    assert marker not in str(raw) and token_provider(raw["apiKey"]) == "sodium"
    raw_br = await _raw_config(bedrock.json()["id"])
    assert raw_br["region"] == "us-east-1" and raw_br["accessKeyId"] == "AKIAVISIBLE"  # not secret: in clear
    assert aws_marker not in str(raw_br)
    assert {token_provider(raw_br["secretAccessKey"]), token_provider(raw_br["sessionToken"])} == {"sodium"}
    # The token is the secret sealed to its connection: this process's vault (same key) opens it.
    assert await decrypt_secret(raw["apiKey"], {"connectionId": openai.json()["id"]}) == marker

    if _sqlite():  # the database files themselves, write-ahead log included, never hold the secret
        for path in data_dir.glob("vmx.db*"):
            assert marker.encode() not in path.read_bytes(), path
            assert aws_marker.encode() not in path.read_bytes(), path
    else:
        async with session_scope() as session:
            dump = (await session.exec(text("SELECT config::text FROM ai_connections"))).all()  # type: ignore[call-overload]
        assert not any(marker in row[0] or aws_marker in row[0] for row in dump)


async def test_ciphertext_moved_to_another_connection_does_not_decrypt(admin_client: httpx.Client,
                                                                       env: tuple[str, str]) -> None:
    base = f"/v1/ai-connection/{env[0]}/{env[1]}"
    first = admin_client.post(base, json={"name": "one", "provider": "openai", "config": {"apiKey": "sk-one"}}).json()
    second = admin_client.post(base, json={"name": "two", "provider": "openai", "config": {"apiKey": "sk-two"}}).json()
    # Swap the associated data: copy connection one's sealed key onto connection two's row.
    await _set_raw_config(second["id"], await _raw_config(first["id"]))

    got = admin_client.get(f"{base}/{second['id']}")
    assert got.status_code == 200 and got.json()["credentialsStatus"] == "unreadable"
    assert got.json()["config"] == {"apiKey": "********"}
    assert admin_client.get(f"{base}/{first['id']}").json()["credentialsStatus"] == "ok"
    listed = admin_client.get(base)
    assert listed.status_code == 200
    assert {c["name"]: c["credentialsStatus"] for c in listed.json()["data"]} == {"one": "ok", "two": "unreadable"}
    tested = admin_client.post(f"{base}/{second['id']}/test")
    assert tested.status_code == 200
    assert tested.json()["ok"] is False and tested.json()["error"]["code"] == "credentials_unreadable"

    config_cache.get_cache().clear()
    with pytest.raises(ConnectionCredentialsError) as raised:
        await config_cache.get_connection(second["id"])
    assert "sk-one" not in str(raised.value)
    assert (await config_cache.get_connection(first["id"])).config == {"apiKey": "sk-one"}  # type: ignore[union-attr]

    # Entering the secret again repairs it.
    fixed = admin_client.put(f"{base}/{second['id']}", json={"config": {"apiKey": "sk-two-again"}})
    assert fixed.status_code == 200 and fixed.json()["credentialsStatus"] == "ok"


@pytest.fixture
def kms_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """ENCRYPTION_PROVIDER=aws-kms with AWS_KMS_KEY_ID, against moto's KMS, for this process only."""
    for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(var, value)
    with mock_aws():
        key_id = boto3.client("kms", region_name="us-east-1").create_key(Description="vmx")["KeyMetadata"]["KeyId"]
        monkeypatch.setenv("ENCRYPTION_PROVIDER", "aws-kms")
        monkeypatch.setenv("AWS_KMS_KEY_ID", key_id)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        reset_settings()
        set_vault(None)
        try:
            yield key_id
        finally:
            monkeypatch.undo()
            reset_settings()
            set_vault(None)
            config_cache.get_cache().clear()
    assert "ENCRYPTION_PROVIDER" not in os.environ or os.environ["ENCRYPTION_PROVIDER"] != "aws-kms"


async def test_aws_kms_vault_seals_reads_and_migrates(admin_client: httpx.Client, env: tuple[str, str],
                                                      kms_settings: str) -> None:
    # Written by the app (libsodium) before this process switched to KMS.
    base = f"/v1/ai-connection/{env[0]}/{env[1]}"
    legacy = admin_client.post(base, json={"name": "legacy", "provider": "anthropic",
                                           "config": {"apiKey": "sk-ant-legacy"}}).json()

    vault = get_vault()
    assert getattr(vault, "provider", None) == "kms"
    assert isinstance(getattr(vault, "primary", vault), KmsVault)
    ws, env_id = uuid.UUID(env[0]), uuid.UUID(env[1])
    async with session_scope() as session:
        row = await ai_connections.create_connection(
            session=session, workspace_id=ws, environment_id=env_id, user_id=None,
            data=AIConnectionCreate.model_validate({"name": "kms", "provider": "openai",
                                                    "config": {"apiKey": "sk-kms-secret"}}))
    raw = await _raw_config(str(row.id))
    assert token_provider(raw["apiKey"]) == "kms" and "sk-kms-secret" not in str(raw)

    config_cache.get_cache().clear()
    snap = await config_cache.get_connection(row.id)
    assert snap is not None and snap.config == {"apiKey": "sk-kms-secret"}
    # libsodium secrets stay readable under KMS, and rotation moves them to KMS.
    assert (await config_cache.get_connection(legacy["id"])).config == {"apiKey": "sk-ant-legacy"}  # type: ignore[union-attr]
    assert await rotate_connections(vault, environment_id=env_id) == 1
    assert token_provider((await _raw_config(legacy["id"]))["apiKey"]) == "kms"

    # KMS checks the encryption context: a data key moved to another connection is refused.
    await _set_raw_config(legacy["id"], raw)
    async with session_scope() as session:
        moved = await session.get(AIConnection, uuid.UUID(legacy["id"]))
        assert await ai_connections.credentials_status(moved) == "unreadable"  # type: ignore[arg-type]
