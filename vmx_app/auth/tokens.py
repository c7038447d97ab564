"""Opaque session tokens; the server keeps only their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

SESSION_TOKEN_BYTES = 32


def hash_session_token(token: str) -> str:
    """Hex SHA-256: a leaked sessions table cannot be replayed as cookies or bearer tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_token() -> tuple[str, str]:
    """(token for the client, hash to store)."""
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    return token, hash_session_token(token)
