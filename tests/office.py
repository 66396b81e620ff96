"""A citizens' office with a queue, straight in the database, for the queue tests.

``open_office`` makes a location offering three services (prefixes A, B and K), desks
serving some of them, a kiosk and a display board; ``seat`` gives a desk a staff member
(by personal API token) already sitting at it; ``appointment`` books one directly.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from booking import tokens
from booking.auth.tokens import issue_api_token, register_device
from booking.db import Connection, catalogue
from booking.db import appointments as appointment_q
from booking.db import desks as desk_q
from booking.db import staff as staff_q
from booking.db.appointments import NewAppointment
from booking.db.audit import SYSTEM
from booking.db.catalogue import NewLocation, NewService

# slug: (queue prefix, minutes)
SERVICES: Mapping[str, tuple[str, int]] = {
    "ausweis": ("A", 20),
    "meldung": ("B", 10),
    "kfz": ("K", 30),
}
EVERYTHING = tuple(SERVICES)
# A queue's day is its office's local date (Europe/Berlin by default): a test that issued
# tickets just before midnight and called just after would see its day end under it.
BERLIN = ZoneInfo("Europe/Berlin")
MIDNIGHT_MARGIN = timedelta(minutes=2)


class Office(msgspec.Struct, frozen=True, kw_only=True):
    location_id: int
    slug: str
    services: dict[str, int]
    desks: dict[str, int]
    kiosk: str
    display: str


def day_began(at: datetime) -> datetime:
    """The midnight (Berlin) that began ``at``'s queue day."""
    return datetime.combine(at.astimezone(BERLIN).date(), time(), tzinfo=BERLIN)


async def _clear_of_midnight() -> None:
    now = datetime.now(BERLIN)
    left = day_began(now) + timedelta(days=1) - now
    if left < MIDNIGHT_MARGIN:
        await asyncio.sleep(left.total_seconds() + 1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def open_office(
    conn: Connection,
    slug: str = "mitte",
    desks: Mapping[str, Sequence[str]] | None = None,
) -> Office:
    """``desks``: name -> services it serves (default: "Schalter 1" serving everything).

    Opened this close to midnight, it opens a little after instead.
    """
    await _clear_of_midnight()
    location = await catalogue.insert_location(
        conn, NewLocation(slug=slug, name_de=f"Bürgeramt {slug}", name_en=f"Office {slug}")
    )
    services = {}
    for service, (prefix, minutes) in SERVICES.items():
        services[service] = await catalogue.upsert_service(
            conn,
            NewService(
                slug=service,
                name_de=service.title(),
                name_en=service.title(),
                duration_minutes=minutes,
                queue_prefix=prefix,
            ),
        )
        await catalogue.offer_service(conn, location.id, services[service], None)
    desk_ids = {}
    for name, served in (desks or {"Schalter 1": EVERYTHING}).items():
        desk_ids[name] = await desk_q.insert_desk(conn, location.id, name)
        await desk_q.set_desk_services(conn, desk_ids[name], [services[s] for s in served])
    _, kiosk = await register_device(conn, SYSTEM, location.id, "kiosk", "Eingang")
    _, display = await register_device(conn, SYSTEM, location.id, "display", "Wartebereich")
    return Office(
        location_id=location.id,
        slug=slug,
        services=services,
        desks=desk_ids,
        kiosk=kiosk,
        display=display,
    )


async def staff_member(conn: Connection, office: Office, role: str = "desk") -> tuple[int, str]:
    """A staff member of the office: their id and personal API token."""
    user_id = await staff_q.insert_account(
        conn,
        staff_q.NewAccount(
            email=f"{role}-{uuid.uuid4().hex[:10]}@example.org",
            display_name=f"{role} {uuid.uuid4().hex[:4]}",
            role=role,
            password_hash=None,
        ),
    )
    await staff_q.set_locations(conn, user_id, [office.location_id])
    _, token = await issue_api_token(conn, SYSTEM, user_id, "tests")
    return user_id, token


async def seat(conn: Connection, office: Office, desk: str, now: datetime) -> str:
    """A new desk staff member sitting at ``desk``; their API token."""
    user_id, token = await staff_member(conn, office)
    assert await desk_q.sit_at(conn, office.location_id, office.desks[desk], user_id, now)
    return token


async def appointment(
    conn: Connection,
    office: Office,
    service: str,
    start: datetime,
    *,
    status: str = "booked",
    email: str | None = None,
) -> str:
    """A booked appointment (its units are not taken: the queue does not look at them)."""
    code = tokens.new_code()
    inserted = await appointment_q.insert_appointment(
        conn,
        NewAppointment(
            code=code,
            location_id=office.location_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=SERVICES[service][1]),
            status=status,
            citizen_name="Erika Mustermann",
            email=email,
            phone=None,
            language="de",
            manage_token_hash=b"\0" * 32,
            confirm_token_hash=None,
            token_salt=tokens.new_salt(),
            pending_until=None,
            service_key=str(office.services[service]),
            booked_by="staff",
        ),
    )
    assert inserted is not None
    await appointment_q.insert_appointment_services(
        conn, inserted.id, [(office.services[service], 1)]
    )
    return code
