"""Fixed-window rate limits in Redis, keyed by a keyed hash of the client, never the address.

Invariant 7: client IP addresses are never stored. The key is an HMAC of the address with
the secret key, and it expires with its window. When Redis is down the limiter lets
requests through: a booking must not fail because the abuse guard cannot count.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.errors import TooManyRequests

log = logging.getLogger("booking.ratelimit")


class Limit(msgspec.Struct, frozen=True):
    name: str
    requests: int
    window_seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, secret_key: str) -> None:
        self._redis = redis
        self._key = secret_key.encode()

    def _bucket(self, limit: Limit, client: str, window: int) -> str:
        digest = hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()[:32]
        return f"rl:{limit.name}:{digest}:{window}"

    async def hit(self, limit: Limit, client: str) -> None:
        """Count one request; raise TooManyRequests once the window's budget is spent."""
        now = time.time()
        window = int(now // limit.window_seconds)
        key = self._bucket(limit, client, window)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, limit.window_seconds + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError):
            log.warning("rate limit %s not enforced: Redis unavailable", limit.name)
            return
        if int(count) > limit.requests:
            retry = max(1, int((window + 1) * limit.window_seconds - now) + 1)
            raise TooManyRequests(
                "Too many requests; please wait a moment and try again. / "
                "Zu viele Anfragen; bitte warten Sie einen Moment.",
                headers={"Retry-After": str(retry)},
            )
