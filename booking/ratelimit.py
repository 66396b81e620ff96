"""Sliding-window rate limits in Redis, keyed by a keyed hash of the client, never the address.

Invariant 7: client IP addresses are never stored. The key is an HMAC of the address with
the secret key, and it expires with its window. When Redis is down the limiter lets
requests through: a booking must not fail because the abuse guard cannot count.

Each key holds the times of the client's requests in the last window (at most ``requests``
of them), so a limit means "never more than N in any W seconds". Fixed windows let twice
the budget through around a window's edge.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable, Sequence

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.errors import TooManyRequests

log = logging.getLogger("booking.ratelimit")

# All of a request's limits in one round trip. A request is counted only when every limit
# has room, so a refused request spends no budget. Returns {0} when counted, else the 1-based
# position of the first full limit and its oldest counted time (as a string: Lua numbers
# would lose the fraction on the way back).
_COUNT = """
local now, member = tonumber(ARGV[1]), ARGV[2]
for i, key in ipairs(KEYS) do
  local requests, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= requests then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {i, oldest[2]}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 * i + 2])))
end
return {0}
"""


class Limit(msgspec.Struct, frozen=True):
    name: str
    requests: int
    window_seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, secret_key: str, now: Callable[[], float] = time.time) -> None:
        self._key = secret_key.encode()
        self._count = redis.register_script(_COUNT)
        self._now = now

    async def hit(self, limit: Limit, client: str) -> None:
        """Count one request; raise TooManyRequests while the window's budget is spent."""
        await self.hit_all((limit,), client)

    async def hit_all(self, limits: Sequence[Limit], client: str) -> None:
        """Count one request against every limit, or raise for the first that is full."""
        now = self._now()
        digest = hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()[:32]
        keys = [f"rl:{limit.name}:{digest}" for limit in limits]
        args: list[str | float] = [now, f"{now!r}:{secrets.token_hex(4)}"]
        args += [n for limit in limits for n in (limit.requests, limit.window_seconds)]
        try:
            answer = await self._count(keys=keys, args=args)
        except (RedisError, OSError):
            log.warning("rate limits %s not enforced: Redis unavailable", _names(limits))
            return
        if int(answer[0]):
            limit, oldest = limits[int(answer[0]) - 1], float(answer[1])
            retry = max(1, math.ceil(oldest + limit.window_seconds - now))
            raise TooManyRequests(
                "Too many requests; please wait a moment and try again. / "
                "Zu viele Anfragen; bitte warten Sie einen Moment.",
                headers={"Retry-After": str(retry)},
            )


def _names(limits: Sequence[Limit]) -> str:
    return ", ".join(limit.name for limit in limits)
