"""The display board of a location: its state, and its calls live as Server-Sent Events.

A board loads the state (``last_event_id`` included), then follows the stream from there
(``?after=``); a reconnecting browser sends ``Last-Event-ID`` by itself. Either way it gets
every call after that id exactly once and in order (``booking.events``). Each event is
``event: call`` or ``event: recall`` with ``id:`` the location's event number and the call
as JSON ``data:``. A comment line comes first, once the stream is subscribed, and then
every ``HEARTBEAT_SECONDS`` without a call, which keeps proxies from closing it.

A stream ends after ``BOOKING_EVENT_STREAM_SECONDS`` and the browser reconnects with its
``Last-Event-ID``, losing nothing: the server stops gracefully only once its requests are
done, and an endless stream would hold every deploy up until it is killed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from booking import events, queueing
from booking.api.dependencies import ClockDep, SettingsDep, Transaction
from booking.api.kiosk import DEVICE_SECURITY, ServiceWaitOut, service_waits
from booking.api.offers import LocationRef
from booking.api.tickets import location_ref
from booking.auth.guards import CurrentDevice, requires_device
from booking.auth.principals import DeviceKind
from booking.db.tickets import CallEvent

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
_MAX_EVENT_ID = 2**62

LastEventId = Annotated[int | None, HeaderParameter(name="Last-Event-ID", ge=0, le=_MAX_EVENT_ID)]
After = Annotated[int | None, QueryParameter(name="after", ge=0, le=_MAX_EVENT_ID)]


class CallOut(msgspec.Struct, frozen=True, kw_only=True):
    """One call on the board: ``code`` to ``desk``; also the data of a stream event."""

    id: int
    kind: str
    code: str
    desk: str
    at: datetime


class CallingOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    desk: str
    called_at: datetime
    recalls: int


class BoardOut(msgspec.Struct, frozen=True, kw_only=True):
    """``calling``: tickets called and not yet at their desk; ``recent``: the last calls,
    newest first; ``join_url``: today's QR poster, for joining the queue by phone."""

    location: LocationRef
    as_of: datetime
    last_event_id: int
    calling: list[CallingOut]
    recent: list[CallOut]
    services: list[ServiceWaitOut]
    join_url: str


def call_out(event: CallEvent) -> CallOut:
    return CallOut(
        id=event.id, kind=event.kind, code=event.display_code, desk=event.desk_name, at=event.at
    )


class DisplayController(Controller):
    path = "/api/v1/locations/{slug:str}/display"
    guards = [requires_device(DeviceKind.DISPLAY, location="slug")]  # noqa: RUF012
    security = DEVICE_SECURITY
    tags = ["display"]  # noqa: RUF012

    @get()
    async def board(
        self, db: Transaction, settings: SettingsDep, clock: ClockDep, device: CurrentDevice,
        slug: FromPath[str],
    ) -> BoardOut:  # fmt: skip
        now = clock.now()
        location = await queueing.location_by_id(db, device.location_id)
        board = await queueing.board(db, location, now)
        return BoardOut(
            location=location_ref(location),
            as_of=now,
            last_event_id=board.last_event_id,
            calling=[
                CallingOut(
                    code=t.display_code,
                    desk=t.desk_name or "",
                    called_at=t.called_at or now,
                    recalls=t.recalls,
                )
                for t in board.calling
            ],
            recent=[call_out(event) for event in board.recent],
            services=service_waits(board.services),
            join_url=queueing.join_url(settings, location, board.day),
        )

    @get("/stream")
    async def stream(
        self, *, state: State, settings: SettingsDep, device: CurrentDevice, slug: FromPath[str],
        last_event_id: LastEventId = None, after: After = None,
    ) -> ServerSentEvent:  # fmt: skip
        """Live calls; ``Last-Event-ID`` (or ``?after=``) replays those missed since."""
        broker: events.CallBroker = state.calls
        # Before answering: a board that cannot be served live gets a 503 it can retry.
        await broker.ready()
        since = last_event_id if last_event_id is not None else after
        calls = events.follow(
            broker, state.db_pool, device.location_id, since,
            heartbeat=HEARTBEAT_SECONDS, lifetime=settings.event_stream_seconds,
        )  # fmt: skip

        async def messages() -> AsyncIterator[ServerSentEventMessage]:
            retry: int | None = RETRY_MILLISECONDS  # said once, with the first line
            async for event in calls:
                if event is None:
                    yield ServerSentEventMessage(data=None, comment="keep-alive", retry=retry)
                    retry = None
                else:
                    data = msgspec.json.encode(call_out(event)).decode()
                    yield ServerSentEventMessage(data=data, event=event.kind, id=event.id)

        return ServerSentEvent(messages())
