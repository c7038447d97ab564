"""What the completion routes take from the HTTP request before the engine runs: the API key (as its
SHA-256, the config cache's lookup key) and the body within the size limit (the caller's IP: see
api/request_ip.py)."""

from __future__ import annotations

from starlette.requests import Request

from vmx_app.auth.api_keys import hash_api_key


def api_key_hash(request: Request) -> str | None:
    """`Authorization: Bearer <key>` or `x-api-key: <key>`, hashed; None when neither is present."""
    headers = request.headers
    key = headers.get("x-api-key")
    if not key:
        auth = headers.get("authorization")
        if auth and auth[:7].lower() == "bearer ":
            key = auth[7:]
    key = key.strip() if key else None
    return hash_api_key(key) if key else None


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` (the rest is never read)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
