"""Passwords (argon2id), API keys and session tokens."""

from __future__ import annotations

import hashlib
import re
import string

import pytest
from argon2 import PasswordHasher, Type

from vmx_app.auth import passwords
from vmx_app.auth.api_keys import (
    API_KEY_PATTERN,
    generate_api_key,
    hash_api_key,
    is_api_key_format,
    mask_api_key,
)
from vmx_app.auth.passwords import (
    DEFAULT_HASHER,
    generate_password,
    hash_password,
    hash_password_async,
    make_hasher,
    needs_rehash,
    verify_password,
    verify_password_async,
)
from vmx_app.auth.tokens import hash_session_token, new_session_token

# Cheap parameters so the suite stays fast; production uses DEFAULT_HASHER.
FAST = make_hasher(time_cost=1, memory_cost=1024, parallelism=1)


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_hash_and_verify() -> None:
    hashed = hash_password("correct horse", hasher=FAST)
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert hash_password("correct horse", hasher=FAST) != hashed  # salted
    assert verify_password("correct horse", hashed, hasher=FAST)
    assert not verify_password("correct horse!", hashed, hasher=FAST)
    assert not verify_password("", hashed, hasher=FAST)


@pytest.mark.parametrize(
    "bad_hash", ["", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$garbage", "$2b$12$abc"]
)
def test_verify_never_raises_on_bad_hashes(bad_hash: str) -> None:
    assert verify_password("whatever", bad_hash, hasher=FAST) is False


def test_unknown_user_still_runs_a_full_verification() -> None:
    counting = CountingHasher()
    assert verify_password("guess", None, hasher=counting) is False
    assert counting.verified == [passwords.DUMMY_HASH]
    # The dummy hash has the production parameters, so it costs what a real user's hash costs.
    assert passwords.DUMMY_HASH.startswith("$argon2id$")
    assert not DEFAULT_HASHER.check_needs_rehash(passwords.DUMMY_HASH)


def test_production_parameters_are_sane() -> None:
    assert DEFAULT_HASHER.type is Type.ID
    assert DEFAULT_HASHER.memory_cost >= 19 * 1024  # OWASP minimum for argon2id
    assert DEFAULT_HASHER.time_cost >= 2


def test_needs_rehash() -> None:
    weak = hash_password("pw", hasher=FAST)
    assert needs_rehash(weak)  # against production parameters
    assert not needs_rehash(weak, hasher=FAST)
    assert needs_rehash("garbage")


async def test_async_helpers() -> None:
    hashed = await hash_password_async("pw", hasher=FAST)
    assert await verify_password_async("pw", hashed, hasher=FAST)
    assert not await verify_password_async("nope", hashed, hasher=FAST)


def test_generate_password() -> None:
    seen = set()
    for _ in range(50):
        pw = generate_password()
        assert len(pw) == 20
        assert any(c in string.ascii_lowercase for c in pw)
        assert any(c in string.ascii_uppercase for c in pw)
        assert any(c in string.digits for c in pw)
        seen.add(pw)
    assert len(seen) == 50
    assert len(generate_password(32)) == 32
    with pytest.raises(ValueError):
        generate_password(8)


def test_api_key_format_and_uniqueness() -> None:
    keys = {generate_api_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"^vmx-[A-Za-z0-9]{48}$", key)
        assert is_api_key_format(key)
    # All 62 symbols show up over 200 * 48 draws: the alphabet is the full one.
    assert set("".join(k[4:] for k in keys)) == set(string.ascii_letters + string.digits)


@pytest.mark.parametrize(
    "key", ["", "vmx-", "vmx-" + "a" * 47, "vmx-" + "a" * 49, "VMX-" + "a" * 48, "vmx-" + "a" * 47 + "-"]
)
def test_api_key_format_rejects(key: str) -> None:
    assert not is_api_key_format(key)
    assert not API_KEY_PATTERN.match(key)


def test_hash_api_key_is_hex_sha256() -> None:
    assert hash_api_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    key = generate_api_key()
    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_api_key(key))
    assert hash_api_key(key) != hash_api_key(key + "x")


def test_mask_api_key() -> None:
    key = "vmx-AbCd" + "q" * 40 + "WxYz"
    masked = mask_api_key(key)
    assert masked == "vmx-AbCd" + "*" * 20 + "WxYz"
    assert "q" not in masked
    generated = mask_api_key(generate_api_key())
    assert re.fullmatch(r"vmx-[A-Za-z0-9]{4}\*{20}[A-Za-z0-9]{4}", generated)
    assert mask_api_key("vmx-short") == "vmx-" + "*" * 20


def test_session_tokens() -> None:
    token, token_hash = new_session_token()
    assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert token_hash == hash_session_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_hash
    assert len({new_session_token()[0] for _ in range(100)}) == 100
