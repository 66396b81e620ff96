"""Appointment -> iCalendar (RFC 5545/5546): where the UID, SEQUENCE and METHOD rules live.

One UID per appointment for its whole life, SEQUENCE from the appointment row (it grows with
each visible change), times in UTC so that every client places them right across DST.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import cache
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from booking.appointments import Booking
from booking.settings import Settings

Method = Literal["REQUEST", "CANCEL"]


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def uid(booking: Booking, settings: Settings) -> str:
    host = urlsplit(settings.public_url).hostname or "localhost"
    return f"appointment-{booking.appointment.code}@{host}"


def invitation(booking: Booking, settings: Settings, now: datetime, method: Method | None) -> bytes:
    """A calendar with one event; ``method`` is set for mail (iTIP), left out for downloads."""
    a, location = booking.appointment, booking.location
    german = a.language == "de"
    services = ", ".join(s.name_de if german else s.name_en for s in booking.services)
    office = location.name_de if german else location.name_en
    cancelled = method == "CANCEL" or a.status in {"cancelled", "expired"}

    cal = Calendar()
    cal.add("prodid", "-//booking//Terminvergabe//DE")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    event = Event()
    event.add("uid", uid(booking, settings))
    event.add("sequence", a.sequence)
    event.add("dtstamp", now.astimezone(zone("UTC")))
    event.add("dtstart", a.starts_at.astimezone(zone("UTC")))
    event.add("dtend", a.ends_at.astimezone(zone("UTC")))
    event.add(
        "summary", f"{'Termin' if german else 'Appointment'}: {services} \N{EN DASH} {office}"
    )
    event.add("location", f"{office}, {location.street}, {location.postal_code} {location.city}")
    code_label = "Buchungscode" if german else "Booking code"
    event.add("description", f"{code_label}: {a.code}\n{services}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    _, sender = parseaddr(settings.mail_from)
    organizer = vCalAddress(f"mailto:{location.email or sender}")
    organizer.params["cn"] = vText(office)
    event.add("organizer", organizer)
    if a.email:
        attendee = vCalAddress(f"mailto:{a.email}")
        attendee.params.update({"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"})
        if a.citizen_name:
            attendee.params["cn"] = vText(a.citizen_name)
        event.add("attendee", attendee)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event["summary"])
        alarm.add("trigger", timedelta(hours=-1))
        event.add_component(alarm)
    cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical
