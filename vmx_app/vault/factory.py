"""Build the configured vault; keep older providers and keys readable during a migration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vmx_app.vault.base import DecryptionError, Vault, VaultError, split_token, token_provider
from vmx_app.vault.keys import load_or_create_key_file, parse_key
from vmx_app.vault.kms import KmsVault
from vmx_app.vault.sodium import SodiumVault

if TYPE_CHECKING:
    from vmx_app.settings import Settings

_PROVIDER_ALIASES = {"libsodium": "sodium", "sodium": "sodium", "aws-kms": "kms", "kms": "kms"}


class CompositeVault:
    """Writes with ``primary``; reads tokens of other providers with ``readers`` (provider -> vault)."""

    def __init__(self, primary: Vault, readers: Mapping[str, Vault]) -> None:
        self.primary = primary
        self.provider: str = getattr(primary, "provider", "")
        self._readers = dict(readers)

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        return self.primary.encrypt(plaintext, context)

    def decrypt(self, token: str, context: dict[str, str]) -> str:
        provider, _ = split_token(token)
        if provider == self.provider:
            return self.primary.decrypt(token, context)
        reader = self._readers.get(provider)
        if reader is None:
            raise DecryptionError(f"no vault configured for stored provider {provider!r}")
        return reader.decrypt(token, context)

    def needs_rotation(self, token: str) -> bool:
        return token_provider(token) != self.provider or self.primary.needs_rotation(token)


def build_vault(
    provider: str,
    *,
    sodium_keys: list[bytes],
    kms_key_id: str | None,
    kms_client: Any = None,
    kms_region: str | None = None,
) -> Vault:
    """``sodium_keys[0]`` is the current libsodium key, the rest are older keys kept for reads.

    With ``aws-kms`` any libsodium keys given stay readable, so `vmx rotate-key` can move
    secrets from libsodium to KMS (and the other way round when a KMS key id is given).
    """
    kind = _PROVIDER_ALIASES.get(provider.strip().lower())
    if kind is None:
        raise VaultError(f"unknown encryption provider {provider!r}; use 'libsodium' or 'aws-kms'")
    sodium = SodiumVault(sodium_keys[0], sodium_keys[1:]) if sodium_keys else None
    kms: KmsVault | None = None
    if kms_key_id:
        if kms_client is None:
            import boto3  # only KMS deployments pay for importing boto3

            kms_client = boto3.client("kms", region_name=kms_region)
        kms = KmsVault(kms_key_id, kms_client)
    if kind == "sodium":
        if sodium is None:
            raise VaultError("the libsodium vault needs an encryption key (LIBSODIUM_ENCRYPTION_KEY)")
        return CompositeVault(sodium, {"kms": kms}) if kms else sodium
    if kms is None:
        raise VaultError("the aws-kms vault needs AWS_KMS_KEY_ID")
    return CompositeVault(kms, {"sodium": sodium}) if sodium else kms


def vault_from_settings(settings: Settings, *, kms_client: Any = None) -> Vault:
    """The vault described by the environment (LIBSODIUM_* / AWS_KMS_* / the embedded key file)."""
    keys: list[bytes] = []
    if settings.libsodium_encryption_key:
        keys.append(parse_key(settings.libsodium_encryption_key))
    elif settings.encryption_provider == "libsodium":
        keys.append(load_or_create_key_file(settings.key_file))
    # A key file left from the embedded profile stays readable after moving to an env key or KMS.
    if settings.key_file.exists():
        keys.append(load_or_create_key_file(settings.key_file))
    for part in (settings.libsodium_previous_keys or "").split(","):
        if part.strip():
            keys.append(parse_key(part))
    return build_vault(
        settings.encryption_provider,
        sodium_keys=_unique(keys),
        kms_key_id=settings.aws_kms_key_id,
        kms_client=kms_client,
        kms_region=settings.aws_region,
    )


def rotate_token(vault: Vault, token: str, context: dict[str, str]) -> str:
    """Re-encrypt ``token`` under the vault's current key/provider; unchanged if already current."""
    if not vault.needs_rotation(token):
        return token
    return vault.encrypt(vault.decrypt(token, context), context)


def _unique(keys: list[bytes]) -> list[bytes]:
    return list(dict.fromkeys(keys))
