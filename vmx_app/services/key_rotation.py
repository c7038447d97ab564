"""`vmx rotate-key`: re-encrypt every stored secret under a new key, without stopping reads.

Embedded profile (key file): the old key is first appended to `<key file>.previous`, then the new key
replaces the key file, then every connection is re-encrypted row by row. Running processes notice the
changed files and read with both keys throughout (vault/runtime.py).

`LIBSODIUM_ENCRYPTION_KEY` set (production): processes cannot learn a key from a file, so roll it out
in two steps: deploy with the new key in `LIBSODIUM_ENCRYPTION_KEY` and the old one in
`LIBSODIUM_PREVIOUS_KEYS`, then run `vmx rotate-key` (no `--new-key`) to re-encrypt what is still
under the old key. `--new-key` with an env key also works when every process already lists the new
key in `LIBSODIUM_PREVIOUS_KEYS`; set it as `LIBSODIUM_ENCRYPTION_KEY` afterwards.

`ENCRYPTION_PROVIDER=aws-kms`: KMS rotates its key material itself; the command moves secrets still
sealed by libsodium (or an older KMS key) under the current KMS key.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from vmx_app.db import session_scope
from vmx_app.models import AIConnection
from vmx_app.services.providers import secret_fields
from vmx_app.settings import get_settings
from vmx_app.vault import SodiumVault, Vault, VaultError, build_vault, generate_key, parse_key, rotate_token
from vmx_app.vault.runtime import (
    build_runtime_vault,
    connection_context,
    previous_keys_file,
    read_previous_keys,
    sodium_keys,
    write_keys_file,
)

log = logging.getLogger("vmx.vault")
_MAX_ATTEMPTS = 5


class RotationError(RuntimeError):
    pass


async def _rotate_row(vault: Vault, conn_id: uuid.UUID) -> bool:
    """Re-encrypt one connection's secrets; True when the row changed. Optimistic: a concurrent edit
    (a new `updated_at`) makes us read the row again rather than overwrite it."""
    blocking = not isinstance(vault, SodiumVault)
    for _ in range(_MAX_ATTEMPTS):
        async with session_scope() as session:
            row = await session.get(AIConnection, conn_id)
            if row is None:
                return False
            secrets = secret_fields(row.provider)
            context = connection_context(str(row.id))
            config: dict[str, Any] = dict(row.config)
            changed = False
            for key in secrets & set(config):
                token = config[key]
                if not token or not vault.needs_rotation(token):
                    continue
                config[key] = (await asyncio.to_thread(rotate_token, vault, token, context) if blocking
                               else rotate_token(vault, token, context))
                changed = True
            if not changed:
                return False
            # updated_at is left alone: the secret's value did not change, only its envelope.
            result = await session.exec(  # type: ignore[call-overload]
                update(AIConnection).where(AIConnection.id == row.id, AIConnection.updated_at == row.updated_at)
                .values(config=config)
            )
            if result.rowcount == 1:
                return True
    raise RotationError(f"connection {conn_id} kept changing during rotation; run the command again")


async def rotate_connections(vault: Vault, *, environment_id: uuid.UUID | None = None) -> int:
    """Re-encrypt every connection secret not sealed by ``vault``'s current key. Each row is its own
    short transaction, so the application keeps reading and writing meanwhile. A row whose secrets
    cannot be decrypted is skipped (and reported at the end) rather than stopping the others.
    Returns rows changed."""
    query = select(AIConnection.id).order_by(AIConnection.id)  # type: ignore[arg-type]
    if environment_id is not None:
        query = query.where(AIConnection.environment_id == environment_id)
    async with session_scope() as session:
        ids = list((await session.exec(query)).all())
    count = 0
    unreadable: list[str] = []
    for conn_id in ids:
        try:
            if await _rotate_row(vault, conn_id):
                count += 1
        except VaultError as exc:
            log.error("connection %s: %s", conn_id, exc)  # never the secret: vault errors do not hold it
            unreadable.append(str(conn_id))
    if unreadable:
        raise RotationError(f"re-encrypted {count} connection(s); {len(unreadable)} could not be decrypted with "
                            f"the configured keys and were left as they are: {', '.join(unreadable)}")
    return count


async def rotate_key(new_key_b64: str | None = None, key_file: Path | None = None) -> int:
    """Rotate as the configuration says (see the module docstring); returns connections re-encrypted."""
    settings = get_settings()
    if settings.encryption_provider == "aws-kms":
        if new_key_b64:
            raise RotationError("ENCRYPTION_PROVIDER=aws-kms: KMS rotates its own key material; run without "
                                "--new-key to re-encrypt every secret under the current KMS key")
        return await rotate_connections(build_runtime_vault(settings))
    if settings.libsodium_encryption_key and key_file is None:
        ring = sodium_keys(settings)
        if new_key_b64:
            ring = [parse_key(new_key_b64), *ring]
        vault = build_vault("libsodium", sodium_keys=list(dict.fromkeys(ring)), kms_key_id=settings.aws_kms_key_id,
                            kms_region=settings.aws_region)
        count = await rotate_connections(vault)
        if new_key_b64:
            log.warning("secrets now use the new key: set LIBSODIUM_ENCRYPTION_KEY to it and keep the old one in "
                        "LIBSODIUM_PREVIOUS_KEYS until every process has restarted")
        return count
    return await _rotate_key_file(key_file or settings.key_file, new_key_b64)


async def _rotate_key_file(path: Path, new_key_b64: str | None) -> int:
    settings = get_settings()
    new = parse_key(new_key_b64) if new_key_b64 else generate_key()
    prev_path = previous_keys_file(path)
    old = [parse_key(line) for line in path.read_text(encoding="ascii").splitlines() if line.strip()] \
        if path.exists() else []
    previous = [k for k in dict.fromkeys([*old, *read_previous_keys(prev_path)]) if k != new]
    # Order matters for running processes: the old key becomes a previous key before the new key
    # appears, so at every instant each stored secret has a key in their ring.
    if previous:
        write_keys_file(prev_path, previous)
    write_keys_file(path, [new])
    env_keys = [parse_key(p) for p in (settings.libsodium_previous_keys or "").split(",") if p.strip()]
    ring = list(dict.fromkeys([new, *previous, *env_keys]))
    vault = build_vault("libsodium", sodium_keys=ring, kms_key_id=settings.aws_kms_key_id,
                        kms_region=settings.aws_region)
    return await rotate_connections(vault)
