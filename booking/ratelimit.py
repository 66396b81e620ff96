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
from collections.abc import Sequence

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.errors import TooManyRequests

log = logging.getLogger("booking.ratelimit")

# All of a request's limits in one round trip, counted in order as one hit() after another
# would: the first spent budget stops the count, so a refused request costs no later budget.
# Returns the 1-based position of that limit, 0 when every limit has room.
_COUNT = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[2 * i])
  if count > tonumber(ARGV[2 * i - 1]) then return i end
end
return 0
"""


class Limit(msgspec.Struct, frozen=True):
    name: str
    requests: int
    window_seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, secret_key: str) -> None:
        self._key = secret_key.encode()
        self._count = redis.register_script(_COUNT)

    async def hit(self, limit: Limit, client: str) -> None:
        """Count one request; raise TooManyRequests once the window's budget is spent."""
        await self.hit_all((limit,), client)

    async def hit_all(self, limits: Sequence[Limit], client: str) -> None:
        """Count one request against each limit; raise for the first whose budget is spent."""
        now = time.time()
        digest = hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()[:32]
        windows = [int(now // limit.window_seconds) for limit in limits]
        keys = [f"rl:{lim.name}:{digest}:{w}" for lim, w in zip(limits, windows, strict=True)]
        args = [n for limit in limits for n in (limit.requests, limit.window_seconds + 1)]
        try:
            spent = int(await self._count(keys=keys, args=args))
        except (RedisError, OSError):
            log.warning("rate limits %s not enforced: Redis unavailable", _names(limits))
            return
        if spent:
            limit, window = limits[spent - 1], windows[spent - 1]
            retry = max(1, int((window + 1) * limit.window_seconds - now) + 1)
            raise TooManyRequests(
                "Too many requests; please wait a moment and try again. / "
                "Zu viele Anfragen; bitte warten Sie einen Moment.",
                headers={"Retry-After": str(retry)},
            )


def _names(limits: Sequence[Limit]) -> str:
    return ", ".join(limit.name for limit in limits)
