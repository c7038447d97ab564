"""AWS KMS envelope encryption: one data key per value, the value sealed locally with it."""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from vmx_app.vault.base import (
    FORMAT_VERSION,
    DecryptionError,
    EncryptionError,
    VaultError,
    canonical_context,
    split_token,
)
from vmx_app.vault.sodium import b64decode_strict, key_id, open_sealed, seal

PROVIDER = "kms"


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class KmsVault:
    """``client`` is a boto3 KMS client. Calls block: run them off the event loop."""

    provider = PROVIDER

    def __init__(self, key_id: str, client: Any, *, cache_size: int = 1024) -> None:
        if not key_id:
            raise VaultError("AWS_KMS_KEY_ID is required for the aws-kms vault")
        self.key_id = key_id
        self._client = client
        self._cache_size = cache_size
        # Decrypted data keys, keyed by (encrypted blob, context), so reloads skip KMS round trips.
        self._cache: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._current_ref: str | None = None

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        aad = canonical_context(context)
        try:
            resp = self._client.generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        except (ClientError, BotoCoreError) as exc:
            raise EncryptionError(f"KMS GenerateDataKey failed: {_error_code(exc)}") from None
        data_key: bytes = resp["Plaintext"]
        blob: bytes = resp["CiphertextBlob"]
        ref = key_id(str(resp.get("KeyId", self.key_id)).encode("utf-8"))
        self._current_ref = ref
        self._remember(blob, aad, data_key)
        sealed = seal(data_key, plaintext.encode("utf-8"), aad)
        edk = base64.b64encode(blob).decode("ascii")
        return f"{FORMAT_VERSION}:{PROVIDER}:{ref}:{edk}:{base64.b64encode(sealed).decode('ascii')}"

    def decrypt(self, token: str, context: dict[str, str]) -> str:
        provider, parts = split_token(token)
        if provider != PROVIDER or len(parts) != 3:
            raise DecryptionError("stored secret was not written by the aws-kms vault")
        _ref, edk, payload = parts
        blob, sealed = b64decode_strict(edk), b64decode_strict(payload)
        aad = canonical_context(context)
        data_key = self._data_key(blob, aad, context)
        plaintext = open_sealed(data_key, sealed, aad)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("decrypted secret is not valid UTF-8") from None

    def needs_rotation(self, token: str) -> bool:
        try:
            provider, parts = split_token(token)
        except DecryptionError:
            return True
        return provider != PROVIDER or not parts or parts[0] != self._key_ref()

    def _key_ref(self) -> str:
        if self._current_ref is None:
            try:
                arn = self._client.describe_key(KeyId=self.key_id)["KeyMetadata"]["Arn"]
            except (ClientError, BotoCoreError) as exc:
                raise VaultError(f"KMS DescribeKey failed: {_error_code(exc)}") from None
            self._current_ref = key_id(str(arn).encode("utf-8"))
        return self._current_ref

    def _data_key(self, blob: bytes, aad: bytes, context: dict[str, str]) -> bytes:
        with self._lock:
            cached = self._cache.get((blob, aad))
            if cached is not None:
                self._cache.move_to_end((blob, aad))
                return cached
        try:
            # KMS checks the EncryptionContext itself: a value moved to another connection fails here.
            resp = self._client.decrypt(CiphertextBlob=blob, EncryptionContext=dict(context))
        except (ClientError, BotoCoreError) as exc:
            raise DecryptionError(f"KMS Decrypt failed: {_error_code(exc)}") from None
        data_key: bytes = resp["Plaintext"]
        self._remember(blob, aad, data_key)
        return data_key

    def _remember(self, blob: bytes, aad: bytes, data_key: bytes) -> None:
        if self._cache_size <= 0:
            return
        with self._lock:
            self._cache[(blob, aad)] = data_key
            self._cache.move_to_end((blob, aad))
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
