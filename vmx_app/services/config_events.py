"""Configuration change events: invalidate this process's caches at once, and other processes'
through Redis pub/sub when Redis is configured.

Writers call `publish_change(kind, id, env_id)` *after* their transaction commits (invalidating
earlier would let a concurrent reader cache the old row again). Every process runs `listen()` for
its lifetime; a message it missed (Redis down) is covered by the caches' TTL, and a reconnect
flushes the caches outright.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from vmx_app.redis_client import get_redis
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.config")

KINDS = frozenset({"resource", "connection", "api-key", "environment", "workspace", "model-pricing", "all"})
# Lets a process skip its own messages: it invalidated locally before publishing.
ORIGIN = uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class ConfigChange:
    kind: str
    id: str | None = None
    env_id: str | None = None


Hook = Callable[[ConfigChange], None]
_hooks: list[Hook] = []
_publisher: Redis | None = None
_listening = False


def add_invalidation_hook(hook: Hook) -> None:
    """Caches register here (at import); hooks must be fast and must not raise."""
    if hook not in _hooks:
        _hooks.append(hook)


def invalidate_local(change: ConfigChange) -> None:
    for hook in list(_hooks):
        try:
            hook(change)
        except Exception:  # one broken cache must not keep the others stale
            log.exception("config invalidation hook failed for %s", change)


def channel() -> str:
    return f"{get_settings().redis_key_prefix}config-events"


def is_listening() -> bool:
    """True while this process is subscribed to other processes' changes (diagnostics)."""
    return _listening


def _publish_client() -> Redis | None:
    """Pub/sub is broadcast cluster-wide, so a plain connection to the seed node serves Redis Cluster too."""
    global _publisher
    settings = get_settings()
    if settings.redis_url is None:
        return None
    if settings.redis_mode == "single":
        client = get_redis()
        return client if isinstance(client, Redis) else None
    if _publisher is None:
        _publisher = Redis.from_url(settings.redis_url)
    return _publisher


async def publish_change(kind: str, id: Any = None, env_id: Any = None) -> None:  # noqa: A002
    """Call after the transaction commits. ``kind``: resource, connection, api-key, environment,
    workspace, model-pricing or all (``api_key`` spelled with an underscore is accepted too)."""
    kind = kind.replace("_", "-")
    if kind not in KINDS:
        raise ValueError(f"unknown config change kind {kind!r}")
    change = ConfigChange(kind, None if id is None else str(id), None if env_id is None else str(env_id))
    invalidate_local(change)
    client = _publish_client()
    if client is None:
        return
    payload = orjson.dumps({"kind": change.kind, "id": change.id, "envId": change.env_id, "origin": ORIGIN})
    try:
        await client.publish(channel(), payload)
    except (RedisError, OSError) as exc:
        # The write is committed; other processes catch up within the cache TTL.
        log.warning("could not publish config change %s/%s: %s", kind, change.id, exc)


def _handle(data: Any) -> None:
    try:
        message = orjson.loads(data)
        if message.get("origin") == ORIGIN:
            return
        kind = message.get("kind")
        if kind not in KINDS:
            return
        invalidate_local(ConfigChange(kind, message.get("id"), message.get("envId")))
    except (orjson.JSONDecodeError, AttributeError):
        log.warning("ignored a malformed config change message")


async def listen() -> None:
    """Run for the life of the process: apply other processes' changes as they are published."""
    global _listening
    settings = get_settings()
    if settings.redis_url is None:
        return  # one process, nobody else to hear from
    backoff = 0.5
    while True:
        client = Redis.from_url(settings.redis_url, health_check_interval=15)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel())
            # Changes made while we were not subscribed are lost: start from an empty cache.
            invalidate_local(ConfigChange("all"))
            _listening = True
            backoff = 0.5
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    _handle(message.get("data"))
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            log.warning("config change listener lost Redis (%s); retrying in %.1fs", exc, backoff)
        except Exception:  # the listener must outlive any surprise; the TTL covers the gap
            log.exception("config change listener failed; retrying in %.1fs", backoff)
        finally:
            _listening = False
            try:
                await pubsub.aclose()
                await client.aclose()
            except Exception:  # closing a broken connection may fail too
                pass
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 10.0)


async def close() -> None:
    global _publisher
    if _publisher is not None:
        await _publisher.aclose()
        _publisher = None
