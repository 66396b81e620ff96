"""Short-lived answers for the public searches, kept in each process's memory.

When a city opens next month's appointments, thousands of citizens ask the same office the
same question within a second; recomputing every answer would spend the server on that. An
answer is kept for ``BOOKING_AVAILABILITY_CACHE_SECONDS``, far shorter than anyone takes to
fill in the booking form, and booking itself always decides on the database's current
state.

When an answer has had its time, the next request computes it anew while everybody else
is still given the previous one, for at most as long again; without that, the whole rush
would miss at the same instant and compute the same answer side by side. The store keeps a
bounded number of answers, the least recently used going first, so a bot asking for ever
new date ranges cannot grow a process's memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.config.response_cache import ResponseCacheConfig, default_do_cache_predicate
from litestar.stores.base import Store
from litestar.types import CacheKeyBuilder, HTTPScope

from booking.settings import Settings

MAX_ANSWERS = 1000


@dataclass(slots=True)
class _Entry:
    value: bytes
    fresh_until: float | None  # None: never expires
    stale_until: float
    refreshing: bool = False


class BoundedMemoryStore(Store):
    """Litestar's store interface over an LRU dict; time from the monotonic clock."""

    def __init__(
        self, max_entries: int = MAX_ANSWERS, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._now = now

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        if isinstance(value, str):
            value = value.encode()
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        now = self._now()
        fresh_until = now + seconds if seconds else None
        self._entries[key] = _Entry(value, fresh_until, now + 2 * seconds if seconds else 0.0)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        """``None`` to the first caller after the fresh time (it computes the answer anew),
        the previous answer to the others until it is twice its time old."""
        entry = self._live(key)
        if entry is None:
            return None
        stale = entry.fresh_until is not None and entry.fresh_until <= self._now()
        if stale and not entry.refreshing:
            entry.refreshing = True
            return None
        self._entries.move_to_end(key)
        if renew_for:
            await self.set(key, entry.value, renew_for)
        return entry.value

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def delete_all(self) -> None:
        self._entries.clear()

    async def exists(self, key: str) -> bool:
        return self._live(key) is not None

    async def expires_in(self, key: str) -> int | None:
        entry = self._live(key)
        if entry is None or entry.fresh_until is None:
            return None
        return max(0, int(entry.fresh_until - self._now()))

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.fresh_until is not None and entry.stale_until <= self._now():
            del self._entries[key]
            return None
        return entry


def query_key(*names: str) -> CacheKeyBuilder:
    """Key on the path and the named query parameters only, in the order given.

    Other parameters do not change the answer, so a bot adding random ones still hits the
    cache; repeated values keep their order, which the answer echoes.
    """

    def key(request: Request[Any, Any, Any]) -> str:
        query = request.query_params
        return (
            request.url.path + "?" + urlencode([(n, v) for n in names for v in query.getall(n, [])])
        )

    return key


def response_cache_config(settings: Settings) -> ResponseCacheConfig:
    """``cache=True`` routes live for the setting's seconds, and not at all when it is 0;
    routes with their own fixed seconds (the transparency figures) keep them."""
    ttl = settings.availability_cache_seconds

    def keep(scope: HTTPScope, status_code: int) -> bool:
        if not ttl and getattr(scope["route_handler"], "cache", False) is True:
            return False
        return default_do_cache_predicate(scope, status_code)

    return ResponseCacheConfig(default_expiration=ttl or None, cache_response_filter=keep)
