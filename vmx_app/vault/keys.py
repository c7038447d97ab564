"""Loading, parsing and creating libsodium keys."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

from vmx_app.vault.base import InvalidKeyError
from vmx_app.vault.sodium import KEY_BYTES

log = logging.getLogger(__name__)


def generate_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def parse_key(b64: str) -> bytes:
    """Decode a base64 (standard or URL-safe) key; it must be exactly 32 bytes."""
    text = (b64 or "").strip()
    if not text:
        raise InvalidKeyError("encryption key is empty: expected 32 random bytes encoded in base64")
    padded = text + "=" * (-len(text) % 4) if "=" not in text else text
    raw: bytes | None = None
    for altchars in (None, b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=altchars, validate=True)
            break
        except (binascii.Error, ValueError):
            continue
    if raw is None:
        raise InvalidKeyError("encryption key is not valid base64: expected 32 random bytes in base64")
    if len(raw) != KEY_BYTES:
        raise InvalidKeyError(
            f"encryption key must decode to {KEY_BYTES} bytes, got {len(raw)} "
            "(generate one with: openssl rand -base64 32)"
        )
    return raw


def _read_key_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("encryption key file %s is readable by other users (mode %o); run chmod 600", path, mode)
    try:
        return parse_key(path.read_text(encoding="ascii"))
    except (InvalidKeyError, UnicodeDecodeError):
        raise InvalidKeyError(f"encryption key file {path} does not hold a 32-byte base64 key") from None


def load_or_create_key_file(path: Path) -> bytes:
    """Return the key stored at ``path``, creating it (0600, atomically) on first start."""
    path = Path(path)
    if path.exists():
        return _read_key_file(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data directory: private
    key = generate_key()
    # Write a complete temp file, then hard-link it into place: readers never see a partial key and
    # two processes starting together agree on one key (the loser reads the winner's file).
    fd, tmp = tempfile.mkstemp(prefix=".vmx-key-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(encode_key(key) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_key_file(path)
        except OSError:
            # Filesystems without hard links: exclusive create still refuses to overwrite.
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return _read_key_file(path)
            with os.fdopen(out, "w", encoding="ascii") as fh:
                fh.write(encode_key(key) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(path.parent)
    log.info("created a new encryption key file at %s; back it up: secrets cannot be read without it", path)
    return key


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
