"""``/staff/{slug}/stream``: the desk page's live refresh, as Server-Sent Events.

Each ``event: queue`` carries the ``mark`` of the desk page's state (``booking.pages.
staff_desk``): the first at once, then one whenever it changes. Calls wake the stream at
once through ``booking.events``; anything else that moves the queue (a kiosk ticket, a
check-in) is seen by reading the state every ``CHECK_SECONDS``. The stream ends after
``BOOKING_EVENT_STREAM_SECONDS`` and the browser reconnects; as the first event repeats
the current mark, nothing that changed in between goes unnoticed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from booking import events, queueing
from booking.api.dependencies import ClockDep, SettingsDep
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role
from booking.pages.errors import STAFF_EXCEPTION_HANDLERS
from booking.pages.staff_desk import desk_state

CHECK_SECONDS = 2.0
RETRY_MILLISECONDS = 2000


class StaffStream(Controller):
    path = "/{slug:str}/stream"
    include_in_schema = False
    guards = [requires(Role.DESK, location="slug")]  # noqa: RUF012
    exception_handlers = STAFF_EXCEPTION_HANDLERS

    @get()
    async def stream(
        self, *, state: State, settings: SettingsDep, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> ServerSentEvent:  # fmt: skip
        pool = state.db_pool
        async with pool.acquire() as conn:
            location = await queueing.location_by_slug(conn, slug)
        broker: events.CallBroker = state.calls
        await broker.ready()
        wakes = events.follow(
            broker, pool, location.id, None,
            heartbeat=CHECK_SECONDS, lifetime=settings.event_stream_seconds,
        )  # fmt: skip

        async def marks() -> AsyncIterator[ServerSentEventMessage]:
            shown = None
            async for _ in wakes:
                async with pool.acquire() as conn:
                    found = await desk_state(
                        conn, location, staff, clock.now(), settings.check_in_late_minutes
                    )
                if found.mark != shown:
                    retry = RETRY_MILLISECONDS if shown is None else None
                    shown = found.mark
                    yield ServerSentEventMessage(data=found.mark, event="queue", retry=retry)

        return ServerSentEvent(marks())
