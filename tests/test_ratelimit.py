from __future__ import annotations

import pytest
from redis.asyncio import Redis

from booking.embedded import free_port
from booking.errors import TooManyRequests
from booking.ratelimit import Limit, RateLimiter

LIMIT = Limit("booking", requests=3, window_seconds=60)


async def test_the_fourth_request_in_a_window_is_refused_with_retry_after(redis: Redis) -> None:
    limiter = RateLimiter(redis, "s" * 40)
    for _ in range(3):
        await limiter.hit(LIMIT, "203.0.113.7")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit(LIMIT, "203.0.113.7")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 61
    await limiter.hit(LIMIT, "203.0.113.8")  # another client has its own budget


async def test_no_client_address_is_stored_and_keys_expire(redis: Redis) -> None:
    await RateLimiter(redis, "s" * 40).hit(LIMIT, "203.0.113.7")
    keys = [key.decode() for key in await redis.keys("*")]
    assert len(keys) == 1
    assert "203.0.113.7" not in keys[0]
    assert 0 < await redis.ttl(keys[0]) <= 61


async def test_without_redis_requests_pass() -> None:
    down: Redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    limiter = RateLimiter(down, "s" * 40)
    for _ in range(5):
        await limiter.hit(LIMIT, "203.0.113.7")
    await down.aclose()
