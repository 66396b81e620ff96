from __future__ import annotations

import asyncio

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


class Ticking:
    """A settable wall clock, so window edges are crossed without sleeping."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


async def test_no_more_than_the_budget_passes_around_a_minute_boundary(redis: Redis) -> None:
    clock = Ticking(1_800_000_059.5)  # half a second before a whole minute
    limiter = RateLimiter(redis, "s" * 40, now=clock)
    for _ in range(3):
        await limiter.hit(LIMIT, "203.0.113.7")
    clock.at += 1  # a fixed window would start afresh here
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit(LIMIT, "203.0.113.7")
    assert refused.value.headers["Retry-After"] == "59"
    clock.at += 58.75
    with pytest.raises(TooManyRequests):
        await limiter.hit(LIMIT, "203.0.113.7")
    clock.at += 0.25  # now the first three have left the window
    for _ in range(3):
        await limiter.hit(LIMIT, "203.0.113.7")
    with pytest.raises(TooManyRequests):
        await limiter.hit(LIMIT, "203.0.113.7")


async def test_a_refused_request_spends_no_budget(redis: Redis) -> None:
    clock = Ticking(1_800_000_000.0)
    limiter = RateLimiter(redis, "s" * 40, now=clock)
    both = (LIMIT, Limit("booking-hour", requests=5, window_seconds=3600))
    for _ in range(3):
        await limiter.hit_all(both, "203.0.113.7")
    for _ in range(10):
        with pytest.raises(TooManyRequests):
            await limiter.hit_all(both, "203.0.113.7")
    clock.at += 60
    for _ in range(2):  # the hour still has two places: the refusals took none
        await limiter.hit_all(both, "203.0.113.7")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit_all(both, "203.0.113.7")
    assert refused.value.headers["Retry-After"] == "3540"


async def test_no_client_address_is_stored_and_keys_expire(redis: Redis) -> None:
    await RateLimiter(redis, "s" * 40).hit(LIMIT, "203.0.113.7")
    keys = [key.decode() for key in await redis.keys("*")]
    assert len(keys) == 1
    assert "203.0.113.7" not in keys[0]
    assert "203.0.113.7" not in str(await redis.zrange(keys[0], 0, -1))
    assert 0 < await redis.ttl(keys[0]) <= 60


async def test_without_redis_requests_pass() -> None:
    down: Redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    limiter = RateLimiter(down, "s" * 40)
    for _ in range(5):
        await limiter.hit(LIMIT, "203.0.113.7")
    await down.aclose()


async def test_many_requests_at_once_get_exactly_the_budget(redis: Redis) -> None:
    limiter = RateLimiter(redis, "s" * 40)
    ten = Limit("burst", requests=10, window_seconds=60)

    async def one() -> bool:
        try:
            await limiter.hit(ten, "203.0.113.7")
        except TooManyRequests:
            return False
        return True

    passed = await asyncio.gather(*(one() for _ in range(100)))
    assert sum(passed) == 10
