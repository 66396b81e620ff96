"""What the desk page shows, read in one place, and a mark that changes when any of it does.

The page and its live stream (``booking.pages.staff_stream``) read the same ``DeskState``;
the stream tells the browser the state's ``mark`` whenever it changes, and the browser
fetches the page again only when the mark differs from the one it shows. That covers
everything that moves a queue (new tickets, check-ins, other desks' calls and transfers),
not only the calls that ``booking.events`` carries.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import msgspec

from booking import queueing
from booking.auth.principals import Staff
from booking.calendar import zone
from booking.db import Connection
from booking.db import tickets as ticket_q
from booking.db.desks import Desk
from booking.db.tickets import DayAppointment, QueueLocation, Ticket


class AppointmentRow(msgspec.Struct, frozen=True, kw_only=True):
    """``late``: past the check-in window, so it can only queue as a walk-in from now."""

    appointment: DayAppointment
    late: bool


class DeskState(msgspec.Struct, frozen=True, kw_only=True):
    location: QueueLocation
    desk: Desk | None
    current: Ticket | None
    # Today's open tickets of every service, in calling order.
    tickets: list[Ticket]
    appointments: list[AppointmentRow]
    mark: str

    def at(self, moment: datetime) -> datetime:
        """``moment`` on the office's clock."""
        return moment.astimezone(zone(self.location.time_zone))

    def queue(self, everything: bool) -> list[Ticket]:
        """Tickets waiting for my desk's services (every service with ``everything``)."""
        served = None if self.desk is None or everything else set(self.desk.service_ids)
        return [
            t for t in self.tickets
            if t.status == "waiting" and (served is None or t.service_id in served)
        ]  # fmt: skip

    def elsewhere(self) -> list[Ticket]:
        """Called or being served at the other desks."""
        mine = None if self.current is None else self.current.id
        return [t for t in self.tickets if t.status != "waiting" and t.id != mine]


def _mark(desk: Desk | None, tickets: list[Ticket], appointments: list[DayAppointment]) -> str:
    seen = (
        None if desk is None else (desk.id, desk.staff_user_id, desk.service_ids),
        [(t.id, t.status, t.service_id, t.desk_id, t.recalls) for t in tickets],
        [(a.code, a.status, a.ticket_status) for a in appointments],
    )
    return hashlib.sha256(msgspec.json.encode(seen)).hexdigest()[:24]


async def desk_state(
    conn: Connection, location: QueueLocation, staff: Staff, now: datetime, late_minutes: int
) -> DeskState:
    found = await queueing.queue_for(conn, location, staff, now, everything=True)
    current = None if found.desk is None else await ticket_q.desk_ticket(conn, found.desk.id)
    day = queueing.local_day(location, now)
    today = await queueing.day_appointments(conn, location, day)
    too_late = now - timedelta(minutes=late_minutes)
    return DeskState(
        location=location,
        desk=found.desk,
        current=current,
        tickets=found.tickets,
        appointments=[AppointmentRow(appointment=a, late=a.starts_at < too_late) for a in today],
        mark=_mark(found.desk, found.tickets, today),
    )
