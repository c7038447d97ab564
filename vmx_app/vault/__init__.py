"""Credential encryption: libsodium or AWS KMS, behind one small Vault protocol."""

from vmx_app.vault.base import (
    DecryptionError,
    EncryptionError,
    InvalidKeyError,
    Vault,
    VaultError,
    canonical_context,
    token_provider,
)
from vmx_app.vault.factory import CompositeVault, build_vault, rotate_token, vault_from_settings
from vmx_app.vault.keys import encode_key, generate_key, load_or_create_key_file, parse_key
from vmx_app.vault.kms import KmsVault
from vmx_app.vault.masking import MASK, is_masked, mask_secrets, restore_masked
from vmx_app.vault.sodium import SodiumVault, key_id

__all__ = [
    "MASK",
    "CompositeVault",
    "DecryptionError",
    "EncryptionError",
    "InvalidKeyError",
    "KmsVault",
    "SodiumVault",
    "Vault",
    "VaultError",
    "build_vault",
    "canonical_context",
    "encode_key",
    "generate_key",
    "is_masked",
    "key_id",
    "load_or_create_key_file",
    "mask_secrets",
    "parse_key",
    "restore_masked",
    "rotate_token",
    "token_provider",
    "vault_from_settings",
]
