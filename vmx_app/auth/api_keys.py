"""API keys: `vmx-` + 48 random alphanumerics, stored as SHA-256, listed masked."""

from __future__ import annotations

import hashlib
import re
import secrets
import string

API_KEY_PREFIX = "vmx-"
API_KEY_RANDOM_LENGTH = 48  # 48 chars of 62 symbols ≈ 285 bits: a plain SHA-256 is enough, no salt
_ALPHABET = string.ascii_letters + string.digits
API_KEY_PATTERN = re.compile(r"^vmx-[A-Za-z0-9]{48}$")
_MASK_STARS = "*" * 20


def generate_api_key() -> str:
    return API_KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(API_KEY_RANDOM_LENGTH))


def is_api_key_format(key: str) -> bool:
    """Cheap shape check to reject garbage before hashing and looking it up."""
    return bool(API_KEY_PATTERN.match(key))


def hash_api_key(key: str) -> str:
    """Hex SHA-256: the lookup key stored in `api_keys.key_hash`."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def mask_api_key(key: str) -> str:
    """`vmx-AbCd********************WxYz`: enough to recognise a key, not to use it."""
    body = key[len(API_KEY_PREFIX) :] if key.startswith(API_KEY_PREFIX) else key
    if len(body) < 12:
        return API_KEY_PREFIX + _MASK_STARS  # too short to reveal any of it safely
    return f"{API_KEY_PREFIX}{body[:4]}{_MASK_STARS}{body[-4:]}"
