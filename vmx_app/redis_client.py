"""The shared Redis client (None in the embedded profile)."""

from __future__ import annotations

from redis.asyncio import Redis, RedisCluster

from vmx_app.settings import get_settings

_client: Redis | RedisCluster | None = None


def get_redis() -> Redis | RedisCluster | None:
    global _client
    settings = get_settings()
    if settings.redis_url is None:
        return None
    if _client is None:
        if settings.redis_mode == "cluster":
            _client = RedisCluster.from_url(settings.redis_url)
        else:
            _client = Redis.from_url(settings.redis_url)
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
