"""Vault: libsodium and KMS round trips, context binding, tampering, rotation, key files, masking."""

from __future__ import annotations

import base64
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vmx_app.settings import Settings
from vmx_app.vault import (
    MASK,
    CompositeVault,
    DecryptionError,
    InvalidKeyError,
    KmsVault,
    SodiumVault,
    Vault,
    VaultError,
    build_vault,
    canonical_context,
    is_masked,
    key_id,
    load_or_create_key_file,
    mask_secrets,
    parse_key,
    restore_masked,
    rotate_token,
    vault_from_settings,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
CTX = {"connectionId": "11111111-1111-1111-1111-111111111111"}
OTHER_CTX = {"connectionId": "22222222-2222-2222-2222-222222222222"}
SECRET = "sk-live-secret-ünïcødé"


def _flip(token: str, index: int = -5) -> str:
    """Flip one bit inside the base64 payload of a token (last part)."""
    head, payload = token.rsplit(":", 1)
    raw = bytearray(base64.b64decode(payload))
    raw[index] ^= 0x01
    return f"{head}:{base64.b64encode(bytes(raw)).decode()}"


# --- libsodium ---------------------------------------------------------------------------------


def test_sodium_round_trip_and_format() -> None:
    vault = SodiumVault(KEY_A)
    token = vault.encrypt(SECRET, CTX)
    assert re.fullmatch(r"v1:sodium:[0-9a-f]{8}:[A-Za-z0-9+/]+=*", token)
    assert token.split(":")[2] == key_id(KEY_A)
    assert SECRET not in token
    assert vault.decrypt(token, CTX) == SECRET
    assert vault.decrypt(vault.encrypt("", {}), {}) == ""
    assert isinstance(vault, Vault)


def test_sodium_uses_a_fresh_nonce_each_time() -> None:
    vault = SodiumVault(KEY_A)
    assert vault.encrypt(SECRET, CTX) != vault.encrypt(SECRET, CTX)


def test_context_key_order_does_not_matter() -> None:
    vault = SodiumVault(KEY_A)
    token = vault.encrypt(SECRET, {"a": "1", "b": "2"})
    assert vault.decrypt(token, {"b": "2", "a": "1"}) == SECRET
    assert canonical_context({"b": "2", "a": "1"}) == b'{"a":"1","b":"2"}'


@pytest.mark.parametrize(
    "wrong_context",
    [OTHER_CTX, {}, {**CTX, "extra": "x"}, {"connectionid": CTX["connectionId"]}],
    ids=["other-connection", "empty", "extra-key", "key-case"],
)
def test_sodium_wrong_context_fails(wrong_context: dict[str, str]) -> None:
    vault = SodiumVault(KEY_A)
    token = vault.encrypt(SECRET, CTX)
    with pytest.raises(DecryptionError) as info:
        vault.decrypt(token, wrong_context)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "index", [0, 23, 24, -1, -17], ids=["nonce0", "nonce-last", "ct0", "tag-last", "ct-last"]
)
def test_sodium_tampered_ciphertext_fails(index: int) -> None:
    vault = SodiumVault(KEY_A)
    token = vault.encrypt(SECRET, CTX)
    with pytest.raises(DecryptionError):
        vault.decrypt(_flip(token, index), CTX)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "plain-text-secret",
        "v2:sodium:abcd1234:AAAA",
        "v1:sodium:abcd1234",
        "v1:sodium:" + key_id(KEY_A) + ":not base64!!",
        "v1:sodium:" + key_id(KEY_A) + ":" + base64.b64encode(b"short").decode(),
        "v1:kms:x:y:z",
    ],
)
def test_sodium_malformed_tokens_fail_cleanly(token: str) -> None:
    with pytest.raises(DecryptionError):
        SodiumVault(KEY_A).decrypt(token, CTX)


def test_sodium_wrong_key_fails() -> None:
    token = SodiumVault(KEY_A).encrypt(SECRET, CTX)
    with pytest.raises(DecryptionError, match=key_id(KEY_A)):
        SodiumVault(KEY_B).decrypt(token, CTX)
    # Relabelled with a key id the ring knows: authentication still fails under the wrong key.
    forged = token.replace(key_id(KEY_A), key_id(KEY_B))
    with pytest.raises(DecryptionError):
        SodiumVault(KEY_B).decrypt(forged, CTX)


def test_sodium_rejects_bad_key_sizes() -> None:
    with pytest.raises(InvalidKeyError):
        SodiumVault(b"short")
    with pytest.raises(InvalidKeyError):
        SodiumVault(KEY_A, [b"x" * 31])


def test_key_rotation_reads_old_and_rewrites_with_new() -> None:
    old_token = SodiumVault(KEY_A).encrypt(SECRET, CTX)
    ring = SodiumVault(KEY_B, [KEY_A])
    assert ring.key_ids == [key_id(KEY_B), key_id(KEY_A)]
    assert ring.decrypt(old_token, CTX) == SECRET
    assert ring.needs_rotation(old_token)

    new_token = rotate_token(ring, old_token, CTX)
    assert new_token.split(":")[2] == key_id(KEY_B)
    assert not ring.needs_rotation(new_token)
    assert rotate_token(ring, new_token, CTX) == new_token  # idempotent
    # After rotation the old key can be dropped, and the old key alone can no longer read it.
    assert SodiumVault(KEY_B).decrypt(new_token, CTX) == SECRET
    with pytest.raises(DecryptionError):
        SodiumVault(KEY_A).decrypt(new_token, CTX)
    with pytest.raises(DecryptionError):
        rotate_token(ring, old_token, OTHER_CTX)


# --- key handling ------------------------------------------------------------------------------


def test_key_file_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "encryption.key"
    key = load_or_create_key_file(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == key
    assert load_or_create_key_file(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["encryption.key"]  # no temp file left
    assert load_or_create_key_file(tmp_path / "other.key") != key


def test_key_file_with_bad_content_fails_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "encryption.key"
    path.write_text("c2VjcmV0LWJ1dC10b28tc2hvcnQ=\n")
    with pytest.raises(InvalidKeyError) as info:
        load_or_create_key_file(path)
    assert "c2VjcmV0" not in str(info.value)
    assert path.read_text() == "c2VjcmV0LWJ1dC10b28tc2hvcnQ=\n"  # never overwritten


def test_parse_key_accepts_standard_and_urlsafe_base64() -> None:
    key = b"\xfb\xff" * 16  # encodes with + and / in standard base64
    assert parse_key(base64.b64encode(key).decode()) == key
    assert parse_key(" " + base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n") == key


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "not base64 at all!",
        base64.b64encode(b"x" * 16).decode(),
        base64.b64encode(b"x" * 33).decode(),
    ],
)
def test_parse_key_rejects_bad_keys(value: str) -> None:
    with pytest.raises(InvalidKeyError, match="32 bytes|base64|empty"):
        parse_key(value)


# --- KMS ---------------------------------------------------------------------------------------


class CountingKms:
    """Wraps a boto3 KMS client and counts Decrypt calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.decrypts = 0

    def decrypt(self, **kwargs: Any) -> Any:
        self.decrypts += 1
        return self._client.decrypt(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture()
def kms() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        yield client, client.create_key()["KeyMetadata"]["KeyId"]


def test_kms_round_trip_and_cache(kms: tuple[Any, str]) -> None:
    client, kid = kms
    counting = CountingKms(client)
    token = KmsVault(kid, counting).encrypt(SECRET, CTX)
    assert re.fullmatch(r"v1:kms:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+", token)
    assert SECRET not in token

    reader = KmsVault(kid, counting, cache_size=1)
    assert reader.decrypt(token, CTX) == SECRET
    assert reader.decrypt(token, CTX) == SECRET
    assert counting.decrypts == 1  # second read served from the data-key cache
    other = KmsVault(kid, counting).encrypt("other", CTX)
    assert reader.decrypt(other, CTX) == "other"
    assert reader.decrypt(token, CTX) == SECRET
    assert counting.decrypts == 3  # cache of size 1 evicted the first data key


def test_kms_wrong_context_fails(kms: tuple[Any, str]) -> None:
    client, kid = kms
    writer = KmsVault(kid, client)
    token = writer.encrypt(SECRET, CTX)
    with pytest.raises(DecryptionError, match="KMS Decrypt failed") as info:
        KmsVault(kid, client).decrypt(token, OTHER_CTX)  # rejected by KMS itself
    assert SECRET not in str(info.value)
    with pytest.raises(DecryptionError):
        writer.decrypt(token, OTHER_CTX)  # writer has the data key cached: still refused


def test_kms_tampered_payload_and_data_key_fail(kms: tuple[Any, str]) -> None:
    client, kid = kms
    vault = KmsVault(kid, client)
    token = vault.encrypt(SECRET, CTX)
    with pytest.raises(DecryptionError):
        vault.decrypt(_flip(token), CTX)
    version, provider, ref, edk, payload = token.split(":")
    bad_edk = bytearray(base64.b64decode(edk))
    bad_edk[-1] ^= 1
    forged = ":".join([version, provider, ref, base64.b64encode(bytes(bad_edk)).decode(), payload])
    with pytest.raises(DecryptionError):
        KmsVault(kid, client).decrypt(forged, CTX)


def test_kms_needs_rotation_after_key_change(kms: tuple[Any, str]) -> None:
    client, kid = kms
    token = KmsVault(kid, client).encrypt(SECRET, CTX)
    assert not KmsVault(kid, client).needs_rotation(token)  # learns the key ARN via DescribeKey
    new_kid = client.create_key()["KeyMetadata"]["KeyId"]
    moved = KmsVault(new_kid, client)
    assert moved.needs_rotation(token)
    rotated = rotate_token(moved, token, CTX)
    assert not moved.needs_rotation(rotated)
    assert moved.decrypt(rotated, CTX) == SECRET
    assert moved.needs_rotation(SodiumVault(KEY_A).encrypt(SECRET, CTX))


# --- factory -----------------------------------------------------------------------------------


def test_build_vault_libsodium_uses_first_key_and_keeps_older_ones() -> None:
    vault = build_vault("libsodium", sodium_keys=[KEY_B, KEY_A], kms_key_id=None)
    assert isinstance(vault, SodiumVault)
    assert vault.encrypt(SECRET, CTX).split(":")[2] == key_id(KEY_B)
    assert vault.decrypt(SodiumVault(KEY_A).encrypt(SECRET, CTX), CTX) == SECRET


def test_build_vault_kms_reads_sodium_and_migrates(kms: tuple[Any, str]) -> None:
    client, kid = kms
    legacy = SodiumVault(KEY_A).encrypt(SECRET, CTX)
    vault = build_vault("aws-kms", sodium_keys=[KEY_A], kms_key_id=kid, kms_client=client)
    assert isinstance(vault, CompositeVault)
    assert vault.decrypt(legacy, CTX) == SECRET
    assert vault.needs_rotation(legacy)
    migrated = rotate_token(vault, legacy, CTX)
    assert migrated.startswith("v1:kms:")
    assert not vault.needs_rotation(migrated)
    assert (
        build_vault("aws-kms", sodium_keys=[], kms_key_id=kid, kms_client=client).decrypt(migrated, CTX)
        == SECRET
    )


@pytest.mark.parametrize(
    ("provider", "keys", "kms_key_id", "message"),
    [
        ("rot13", [KEY_A], None, "unknown encryption provider"),
        ("libsodium", [], None, "needs an encryption key"),
        ("aws-kms", [KEY_A], None, "AWS_KMS_KEY_ID"),
    ],
)
def test_build_vault_errors(provider: str, keys: list[bytes], kms_key_id: str | None, message: str) -> None:
    with pytest.raises(VaultError, match=message):
        build_vault(provider, sodium_keys=keys, kms_key_id=kms_key_id)


def test_vault_from_settings_embedded_then_env_key(tmp_path: Path) -> None:
    base: dict[str, Any] = {
        "vmx_data_dir": tmp_path,
        "encryption_provider": "libsodium",
        "libsodium_encryption_key": None,
        "libsodium_previous_keys": None,
        "aws_kms_key_id": None,
    }
    embedded = vault_from_settings(Settings(**base))
    token = embedded.encrypt(SECRET, CTX)
    assert (tmp_path / "encryption.key").exists()
    assert vault_from_settings(Settings(**base)).decrypt(token, CTX) == SECRET  # same key on restart

    # Moving to an explicit key keeps the embedded key readable, and rotation moves values over.
    new_key = base64.b64encode(os.urandom(32)).decode()
    moved = vault_from_settings(Settings(**{**base, "libsodium_encryption_key": new_key}))
    assert moved.decrypt(token, CTX) == SECRET
    rotated = rotate_token(moved, token, CTX)
    assert rotated.split(":")[2] == key_id(parse_key(new_key))
    (tmp_path / "encryption.key").unlink()
    assert (
        vault_from_settings(Settings(**{**base, "libsodium_encryption_key": new_key})).decrypt(rotated, CTX)
        == SECRET
    )


# --- masking -----------------------------------------------------------------------------------


def test_mask_secrets_masks_only_non_empty_secret_fields() -> None:
    config = {
        "apiKey": "sk-123",
        "baseUrl": "https://x",
        "sessionToken": "",
        "nested": {"secretAccessKey": "s"},
    }
    masked = mask_secrets(config, {"apiKey", "sessionToken", "secretAccessKey"})
    assert masked == {
        "apiKey": MASK,
        "baseUrl": "https://x",
        "sessionToken": "",
        "nested": {"secretAccessKey": MASK},
    }
    assert config["apiKey"] == "sk-123"  # input untouched


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (MASK, True),
        ("****", True),
        ("****abcd", True),
        ("***", False),
        ("sk-****", False),
        (None, False),
        (4, False),
    ],
)
def test_is_masked(value: object, expected: bool) -> None:
    assert is_masked(value) is expected


def test_restore_masked_keeps_stored_secrets() -> None:
    stored = {"apiKey": "enc-old", "region": "us-east-1", "nested": {"secretAccessKey": "enc-s"}}
    incoming = {
        "apiKey": MASK,
        "region": "eu-west-1",
        "sessionToken": MASK,
        "nested": {"secretAccessKey": "****"},
    }
    secrets = {"apiKey", "sessionToken", "secretAccessKey"}
    assert restore_masked(incoming, stored, secrets) == {
        "apiKey": "enc-old",
        "region": "eu-west-1",
        "nested": {"secretAccessKey": "enc-s"},
    }
    assert restore_masked({"apiKey": "sk-new"}, stored, secrets) == {"apiKey": "sk-new"}
