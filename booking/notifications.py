"""An outbox row's mail, built from the state as of sending; and how retries back off.

The relay (workers/relay.py) leases the rows, sends what is built here and records it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import Message
from typing import cast, get_args

import msgspec

from booking import mail, queueing, tokens, waitlist
from booking.appointments import Booking
from booking.db import Connection
from booking.db import appointments as q
from booking.db import waitlist as wq
from booking.db.outbox import OutboxMessage
from booking.settings import Settings

MAX_ATTEMPTS = 12  # about a day of backing off
Sender = Callable[[Message], Awaitable[None]]


def backoff(attempts: int) -> timedelta:
    """Exponential from 30 s, capped at an hour, with jitter so retries do not stampede."""
    seconds = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311


def links(settings: Settings, code: str, salt: bytes) -> mail.Links:
    base = settings.public_url.rstrip("/")
    manage = tokens.derive_token(settings.secret_key, "manage", code, salt)
    confirm = tokens.derive_token(settings.secret_key, "confirm", code, salt)
    return mail.Links(
        manage_url=f"{base}/termin/{code}?token={manage}",
        confirm_url=f"{base}/termin/{code}/bestaetigen?token={confirm}",
        cancel_url=f"{base}/termin/{code}/absagen?token={manage}",
        accept_url=f"{base}/warteliste/angebot/{code}?token={confirm}",
        decline_url=f"{base}/warteliste/angebot/{code}/ablehnen?token={manage}",
    )


def entry_links(settings: Settings, public_id: str, salt: bytes) -> mail.WaitlistLinks:
    base = settings.public_url.rstrip("/")
    manage = waitlist.entry_token(settings, "manage", public_id, salt)
    confirm = waitlist.entry_token(settings, "confirm", public_id, salt)
    return mail.WaitlistLinks(
        confirm_url=f"{base}/warteliste/{public_id}/bestaetigen?token={confirm}",
        leave_url=f"{base}/warteliste/{public_id}/verlassen?token={manage}",
    )


async def build(
    conn: Connection, settings: Settings, now: datetime, message: OutboxMessage
) -> Message | str:
    """The mail as of now, or why there is none to send."""
    if message.kind == "call_ahead":
        return await _build_call_ahead(conn, settings, now, message)
    if message.kind == "waitlist_confirmation" and message.waitlist_entry_id is not None:
        return await _build_waitlist_confirmation(conn, settings, now, message)
    return await _build_for_appointment(conn, settings, now, message)


async def _build_for_appointment(
    conn: Connection, settings: Settings, now: datetime, message: OutboxMessage
) -> Message | str:
    if message.appointment_id is None:
        return "no appointment"
    appointment = await q.appointment_by_id(conn, message.appointment_id)
    if appointment is None or not appointment.email:
        return "no recipient"
    if message.kind not in get_args(mail.Kind):
        return f"unknown kind {message.kind}"
    booking = Booking(
        # The calendar's SEQUENCE is the one of the change this message reports.
        appointment=msgspec.structs.replace(appointment, sequence=message.sequence),
        location=await q.booked_location(conn, appointment.id),
        services=await q.booked_services(conn, appointment.id),
        manage_token=tokens.derive_token(
            settings.secret_key, "manage", appointment.code, appointment.token_salt
        ),
    )
    try:
        return mail.build_message(
            cast(mail.Kind, message.kind),
            booking,
            settings,
            now,
            message_id=message.message_id,
            links=links(settings, appointment.code, appointment.token_salt),
            documents=await q.documents_to_bring(conn, appointment.id, appointment.language),
        )
    except mail.Obsolete:
        return "superseded"  # e.g. a reminder for an appointment cancelled since


async def _build_waitlist_confirmation(
    conn: Connection, settings: Settings, now: datetime, message: OutboxMessage
) -> Message | str:
    assert message.waitlist_entry_id is not None
    entry = await wq.entry_by_id(conn, message.waitlist_entry_id)
    if entry is None or not entry.email:
        return "no recipient"
    try:
        return mail.build_waitlist_confirmation(
            await waitlist.view(conn, entry),
            settings,
            now,
            message_id=message.message_id,
            links=entry_links(settings, entry.public_id, entry.token_salt),
        )
    except mail.Obsolete:
        return "superseded"  # confirmed, left or lapsed since


async def _build_call_ahead(
    conn: Connection, settings: Settings, now: datetime, message: OutboxMessage
) -> Message | str:
    """Position and wait as of sending; nothing once the ticket stopped waiting."""
    found = None
    if message.ticket_id is not None:
        found = await queueing.ticket_by_id(conn, now, message.ticket_id)
    if found is None or found.ticket.email is None:
        return "no recipient"
    if found.ahead is None or found.wait is None:
        return "superseded"  # called, served or closed since
    ticket, location = found.ticket, found.location
    notice = mail.CallAheadNotice(
        email=found.ticket.email,
        language=ticket.language,
        code=ticket.display_code,
        office_de=location.name_de,
        office_en=location.name_en,
        service_de=ticket.service_name_de,
        service_en=ticket.service_name_en,
        ahead=found.ahead,
        minutes=found.wait.estimated_minutes,
        follow_url=queueing.follow_url(settings, ticket.public_id),
    )
    return mail.build_call_ahead(notice, settings, now, message_id=message.message_id)
