"""Password hashing with argon2id, plus generated passwords for first-start admins."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import string
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, t=3, m=64 MiB, p=4):
# about 0.1 s per hash here, which is the point. Tests pass a cheaper hasher explicitly.
DEFAULT_HASHER = PasswordHasher(type=Type.ID)

_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "-_.!@#%^*+="


def make_hasher(*, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> PasswordHasher:
    """A hasher with explicit parameters (memory_cost in KiB)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    return (hasher or DEFAULT_HASHER).hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Hash of a random password nobody knows, with the production parameters, made on first use so
    # that importing this module stays cheap.
    return DEFAULT_HASHER.hash(secrets.token_urlsafe(24))


def __getattr__(name: str) -> str:
    if name == "DUMMY_HASH":
        return _dummy_hash()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def verify_password(
    password: str, password_hash: str | None, *, hasher: PasswordHasher | None = None
) -> bool:
    """True if ``password`` matches; never raises on a malformed hash.

    With no hash (unknown email, SSO-only user) it still runs a full verification against
    DUMMY_HASH, so a wrong email and a wrong password take the same time.
    """
    ph = hasher or DEFAULT_HASHER
    if not password_hash:
        with contextlib.suppress(VerificationError, InvalidHashError):
            ph.verify(_dummy_hash(), password)
        return False
    try:
        return ph.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, hasher: PasswordHasher | None = None) -> bool:
    """True when the hash was made with other parameters (rehash after a successful login)."""
    try:
        return (hasher or DEFAULT_HASHER).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


async def hash_password_async(password: str, *, hasher: PasswordHasher | None = None) -> str:
    """Off the event loop: argon2 deliberately burns ~0.1 s of CPU."""
    return await asyncio.to_thread(hash_password, password, hasher=hasher)


async def verify_password_async(
    password: str, password_hash: str | None, *, hasher: PasswordHasher | None = None
) -> bool:
    return await asyncio.to_thread(verify_password, password, password_hash, hasher=hasher)


def generate_password(length: int = 20) -> str:
    """Random password with at least one lowercase letter, uppercase letter and digit."""
    if length < 12:
        raise ValueError("generated passwords must be at least 12 characters long")
    while True:
        candidate = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate
