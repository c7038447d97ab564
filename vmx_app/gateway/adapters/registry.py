"""One adapter (and so one pooled HTTP client) per connection, rebuilt when its config changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from vmx_app.gateway.adapters.anthropic import AnthropicAdapter
from vmx_app.gateway.adapters.base import AdapterConfigError, ProviderAdapter
from vmx_app.gateway.adapters.bedrock import BedrockAdapter
from vmx_app.gateway.adapters.openai import OpenAIAdapter
from vmx_app.gateway.adapters.transport import wait_closing
from vmx_app.gateway.config import ConnectionSnapshot

Adapter = OpenAIAdapter | AnthropicAdapter | BedrockAdapter
_OPENAI_LIKE = frozenset({"openai", "gemini", "groq", "perplexity", "openai-compatible"})


@dataclass(slots=True)
class _Entry:
    snapshot: ConnectionSnapshot  # held so the identity fast path cannot match a recycled object
    key: str
    adapter: Adapter


_ADAPTERS: dict[str, _Entry] = {}


def config_key(conn: ConnectionSnapshot) -> str:
    """Hash of what shapes the client: an edited provider or config gets a new adapter."""
    raw = orjson.dumps([conn.provider, conn.config], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def build_adapter(conn: ConnectionSnapshot) -> Adapter:
    """A fresh adapter, not registered (the "test connection" action on unsaved config uses it)."""
    provider = conn.provider
    if provider in _OPENAI_LIKE:
        return OpenAIAdapter(provider, conn.config)
    if provider == "anthropic":
        return AnthropicAdapter(conn.config)
    if provider in ("bedrock", "bedrock-invoke"):
        return BedrockAdapter(
            conn.id,
            conn.config,
            invoke=provider == "bedrock-invoke",
            external_id=f"{conn.workspace_id}:{conn.environment_id}",
        )
    raise AdapterConfigError(f"unknown provider {provider!r}")


def get_adapter(conn: ConnectionSnapshot) -> ProviderAdapter:
    """The connection's adapter; the same snapshot object costs one dict lookup and one `is`."""
    entry = _ADAPTERS.get(conn.id)
    if entry is not None:
        if entry.snapshot is conn:
            return entry.adapter
        key = config_key(conn)
        if entry.key == key:
            entry.snapshot = conn
            return entry.adapter
    else:
        key = config_key(conn)
    adapter = build_adapter(conn)
    _ADAPTERS[conn.id] = _Entry(conn, key, adapter)
    if entry is not None:
        entry.adapter.retire()  # in-flight calls finish on the old client, which then closes
    return adapter


def forget(connection_id: str) -> None:
    """Drop a deleted connection's adapter (closed once its in-flight calls are done)."""
    entry = _ADAPTERS.pop(connection_id, None)
    if entry is not None:
        entry.adapter.retire()


async def close_all() -> None:
    """Close every client (shutdown, tests). Adapters are rebuilt lazily on the next call."""
    entries = list(_ADAPTERS.values())
    _ADAPTERS.clear()
    for entry in entries:
        await entry.adapter.aclose()
    await wait_closing()
