"""The display board ``/display/{slug}``: the numbers called and to which desk, readable
across a hall, with the waiting count and estimated wait per service, a clock, and the
day's QR code for joining the queue by phone.

The page renders the whole board on the server; ``frontend/static/display.js`` follows the
API's live stream, mounted again under the board's path as ``/display/{slug}/live/stream``
(where the device's cookie goes, see ``device_signin``), and on each call fetches this page
again and swaps the board in, so one template draws the board with and without script.
Without script the page reloads itself every 30 seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from booking import queueing
from booking.api.dependencies import ClockDep, SettingsDep, Transaction
from booking.api.display import DisplayController
from booking.auth.guards import CurrentDevice, requires_device
from booking.auth.principals import DeviceKind
from booking.calendar import zone
from booking.pages.device_signin import DeviceSignIn, not_signed_in
from booking.pages.manage import qr_data_uri
from booking.pages.rendering import page


class BoardCall(msgspec.Struct, frozen=True):
    code: str
    desk: str
    at: datetime
    again: bool


class DisplayFeed(DisplayController):
    """The API's board state and live stream at ``/display/{slug}/live``, for the page."""

    path = "/display/{slug:str}/live"
    include_in_schema = False


class DisplaySignIn(DeviceSignIn):
    path = "/display/{slug:str}"
    kind = DeviceKind.DISPLAY


class DisplayPages(Controller):
    path = "/display/{slug:str}"
    guards = [requires_device(DeviceKind.DISPLAY, location="slug")]  # noqa: RUF012
    exception_handlers = not_signed_in(DeviceKind.DISPLAY)
    include_in_schema = False

    @get("/")
    async def board(
        self, *, request: Request[Any, Any, Any], db: Transaction, settings: SettingsDep,
        clock: ClockDep, device: CurrentDevice, slug: FromPath[str],
    ) -> Template:  # fmt: skip
        now = clock.now()
        location = await queueing.location_by_id(db, device.location_id)
        board = await queueing.board(db, location, now)
        tz = zone(location.time_zone)
        calling = [
            BoardCall(t.display_code, t.desk_name or "", (t.called_at or now).astimezone(tz),
                      again=t.recalls > 0)
            for t in board.calling
        ]  # fmt: skip
        recent = [
            BoardCall(e.display_code, e.desk_name, e.at.astimezone(tz), again=e.kind == "recall")
            for e in board.recent
        ]
        return page(
            request,
            "display/board.html",
            {"location": location, "now": now.astimezone(tz), "calling": calling,
             "recent": recent, "services": board.services,
             "waiting": sum(q.wait.waiting for q in board.services),
             "last_event_id": board.last_event_id,
             "stream": f"/display/{location.slug}/live/stream",
             "join_qr": qr_data_uri(queueing.join_url(settings, location, board.day))},
        )  # fmt: skip
