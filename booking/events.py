"""Live calls for display boards: PostgreSQL LISTEN/NOTIFY, fanned out inside one process.

A call writes its ``call_event`` row and ``pg_notify`` in its own transaction, so the
notification goes out when, and only if, the call commits; the location's queue lock makes
the events of a location arrive numbered 1, 2, 3 ... without gaps. Each API process keeps
one listening connection (opened when the first board subscribes) and hands every event to
the subscribers of its location.

A subscriber never relies on the notifications alone. It reads what it missed from the
table: on connecting (``Last-Event-ID``), whenever an event's id skips one, and after the
listener lost its connection or the subscriber fell behind. Events are therefore delivered
to a board exactly once and in order, whichever process made them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import asyncpg
import msgspec

from booking.db import Connection
from booking.db import tickets as q
from booking.db.listener import listen
from booking.db.tickets import CallEvent
from booking.errors import Unavailable

log = logging.getLogger("booking.events")

# A board this far behind is resynchronised from the table instead of queueing more.
_QUEUE_SIZE = 256
_CATCH_UP_BATCH = 500
_READY_SECONDS = 5.0
_decode = msgspec.json.Decoder(CallEvent).decode


class _Marker(msgspec.Struct, frozen=True):
    reason: str


RESYNC = _Marker("resync")  # read the table: something may have been missed
CLOSED = _Marker("closed")  # the process is shutting down


class Subscription:
    def __init__(self, location_id: int) -> None:
        self.location_id = location_id
        self._queue: asyncio.Queue[CallEvent | _Marker] = asyncio.Queue(_QUEUE_SIZE)

    def push(self, item: CallEvent | _Marker) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # A slow reader loses the queued events but not the news that it missed some.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)

    async def next(self, patience: float) -> CallEvent | _Marker | None:
        """The next item, or None when nothing came within ``patience`` seconds."""
        try:
            async with asyncio.timeout(patience):
                return await self._queue.get()
        except TimeoutError:
            return None


class CallBroker:
    """One LISTEN connection per process, shared by every board the process serves."""

    def __init__(self, database_url: str, connect_timeout: float) -> None:
        self._url = database_url
        self._connect_timeout = connect_timeout
        self._subscribers: dict[int, set[Subscription]] = {}
        self._ready = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._closed = False

    async def ready(self) -> None:
        """Return once the listener listens (it starts with the first board); else 503."""
        if self._closed:
            raise Unavailable("The server is shutting down.", headers={"Retry-After": "2"})
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="call-listener")
        try:
            async with asyncio.timeout(_READY_SECONDS):
                await self._ready.wait()
        except TimeoutError:
            raise Unavailable(
                "Live calls are unavailable right now; please retry.",
                headers={"Retry-After": "5"},
            ) from None

    async def subscribe(self, location_id: int) -> Subscription:
        """A subscription that sees every event committed from now on."""
        subscription = Subscription(location_id)
        self._subscribers.setdefault(location_id, set()).add(subscription)
        try:
            await self.ready()
        except Unavailable:
            self.unsubscribe(subscription)
            raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.location_id, set())
        subscribers.discard(subscription)
        if not subscribers:
            self._subscribers.pop(subscription.location_id, None)

    async def close(self) -> None:
        self._closed = True
        self._broadcast(CLOSED)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    def _broadcast(self, item: _Marker) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.push(item)

    def _deliver(self, _conn: Connection, _pid: int, _channel: str, payload: object) -> None:
        try:
            event = _decode(str(payload))
        except msgspec.DecodeError:
            log.warning("ignored a malformed call notification")
            return
        for subscription in self._subscribers.get(event.location_id, ()):
            subscription.push(event)

    async def _listen(self) -> None:
        await listen(
            self._url, q.NOTIFY_CHANNEL, self._deliver,
            on_ready=self._listening, on_lost=self._ready.clear,
            connect_timeout=self._connect_timeout,
        )  # fmt: skip

    def _listening(self) -> None:
        self._ready.set()
        # Whatever committed while nobody listened is in the table.
        self._broadcast(RESYNC)


async def follow(
    broker: CallBroker,
    pool: asyncpg.Pool,
    location_id: int,
    after: int | None,
    *,
    heartbeat: float,
    lifetime: float,
) -> AsyncIterator[CallEvent | None]:
    """A location's events after ``after`` (from now when None), then live ones, each once
    and in order, for ``lifetime`` seconds. None first, once subscribed, and then every
    ``heartbeat`` seconds without an event, to keep the line open."""
    deadline = time.monotonic() + lifetime
    subscription = await broker.subscribe(location_id)
    try:
        # Subscribed first, then read: nothing can fall between the table and the stream.
        async with pool.acquire() as conn:
            newest = await q.last_event_id(conn, location_id)
        # An id from the future (a reset database, a made-up header) must not mute the board.
        last = newest if after is None else min(after, newest)
        yield None
        read_table = True
        while True:
            if read_table:
                async for event in _missed(pool, location_id, last):
                    yield event
                    last = event.id
                read_table = False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            item = await subscription.next(min(heartbeat, remaining))
            if item is None:
                yield None
            elif item is CLOSED:
                return
            elif isinstance(item, CallEvent) and item.id <= last + 1:
                if item.id == last + 1:  # else one the table gave already
                    yield item
                    last = item.id
            else:  # an event past a gap, or RESYNC
                read_table = True
    finally:
        broker.unsubscribe(subscription)


async def _missed(pool: asyncpg.Pool, location_id: int, after: int) -> AsyncIterator[CallEvent]:
    while True:
        async with pool.acquire() as conn:
            batch = await q.events_after(conn, location_id, after, _CATCH_UP_BATCH)
        for event in batch:
            yield event
        if len(batch) < _CATCH_UP_BATCH:
            return
        after = batch[-1].id
