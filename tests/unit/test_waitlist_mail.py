"""The waitlist's mails, parsed back the way a mail client reads them."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, time
from email.message import EmailMessage, Message

import msgspec
import pytest

from booking.appointments import Booking
from booking.db.appointments import Appointment, BookedService
from booking.db.offers import SetLocation
from booking.db.waitlist import Entry, Named, Place
from booking.mail import (
    Links,
    Obsolete,
    WaitlistLinks,
    build_message,
    build_waitlist_confirmation,
)
from booking.settings import Settings
from booking.smtp import written
from booking.waitlist import EntryView

SETTINGS = Settings(public_url="https://termine.musterstadt.example")
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
BASE = "https://termine.musterstadt.example"
OFFER_LINKS = Links(
    manage_url=f"{BASE}/termin/K7M3QX?token=m",
    accept_url=f"{BASE}/warteliste/angebot/K7M3QX?token=c",
    decline_url=f"{BASE}/warteliste/angebot/K7M3QX/ablehnen?token=m",
)
ENTRY_LINKS = WaitlistLinks(
    confirm_url=f"{BASE}/warteliste/abcdefghijklmnop/bestaetigen?token=c",
    leave_url=f"{BASE}/warteliste/abcdefghijklmnop/verlassen?token=m",
)
LOCATION = SetLocation(
    id=1, slug="mitte", name_de="Bürgeramt Musterstadt-Mitte",
    name_en="Citizens' Office Musterstadt Centre", street="Rathausplatz 1", postal_code="12345",
    city="Musterstadt", email="buergeramt-mitte@musterstadt.example",
    time_zone="Europe/Berlin", grid_minutes=10, horizon_days=60, min_lead_minutes=60,
    cancel_deadline_minutes=120, reminder_minutes=1440, requires_confirmation=False,
    total_minutes=20, service_ids=[1],
)  # fmt: skip
OFFER = Booking(
    appointment=Appointment(
        id=7, code="K7M3QX", location_id=1, starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 1, 8, 20, tzinfo=UTC), status="pending",
        citizen_name="Wilma Wartend", email="wilma@example.org", phone=None, language="de",
        manage_token_hash=b"h", confirm_token_hash=b"c", token_salt=b"s",
        pending_until=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), sequence=0, service_key="1",
        booked_by="citizen", waitlist_entry_id=3,
    ),
    location=LOCATION,
    services=[BookedService("personalausweis", "Personalausweis beantragen",
                            "Apply for an identity card", 1)],
    manage_token="m",
)  # fmt: skip
REQUEST = EntryView(
    entry=Entry(
        id=3, public_id="abcdefghijklmnop", email="wilma@example.org",
        citizen_name="Wilma Wartend", language="de", service_ids=[1], location_ids=[1, 2],
        earliest_day=date(2026, 12, 1), latest_day=date(2026, 12, 18), weekdays=[2, 4],
        time_from=time(9), time_until=None, status="pending", manage_token_hash=b"m",
        confirm_token_hash=b"c", token_salt=b"s",
        confirm_until=datetime(2026, 11, 30, 7, 30, tzinfo=UTC),
    ),
    services=[Named("personalausweis", "Personalausweis beantragen", "Apply for an identity card")],
    locations=[
        Place("mitte", "Bürgeramt Musterstadt-Mitte", "Citizens' Office Musterstadt Centre",
              "Europe/Berlin"),
        Place("nord", "Bürgeramt Musterstadt-Nord", "Citizens' Office Musterstadt North",
              "Europe/Berlin"),
    ],
)  # fmt: skip


def parsed(msg: Message) -> EmailMessage:
    """As the recipient's mail client reads what the worker sends."""
    back = email.message_from_bytes(written(msg), policy=email.policy.default)
    assert isinstance(back, EmailMessage)
    return back


def text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content.replace("\r\n", "\n")


def offer(booking: Booking = OFFER) -> EmailMessage:
    return parsed(
        build_message(
            "waitlist_offer", booking, SETTINGS, NOW, message_id="<o@x>", links=OFFER_LINKS,
            documents=["Bisheriger Ausweis"],
        )
    )  # fmt: skip


def confirmation(request: EntryView = REQUEST) -> EmailMessage:
    built = build_waitlist_confirmation(
        request, SETTINGS, NOW, message_id="<w@x>", links=ENTRY_LINKS
    )
    return parsed(built)


def test_an_offer_asks_to_accept_by_a_time_and_offers_to_decline() -> None:
    msg = offer()
    assert msg.get_content_type() == "multipart/alternative"  # no invitation, no QR code yet
    body = text(msg)
    assert body.startswith("Guten Tag Wilma Wartend,\n")
    assert "Wir halten ihn bis Montag, 30. November 2026, 10:00 Uhr für Sie." in body
    assert f"Termin annehmen:\n{OFFER_LINKS.accept_url}\n" in body
    assert f"Termin ablehnen:\n{OFFER_LINKS.decline_url}\n" in body
    assert "Dienstag, 1. Dezember 2026, 09:00 Uhr" in body
    assert "VCALENDAR" not in msg.as_string()


def test_an_offer_in_english() -> None:
    english = msgspec.structs.replace(OFFER.appointment, language="en")
    body = text(offer(msgspec.structs.replace(OFFER, appointment=english)))
    assert "We are holding it for you until Monday, 30 November 2026 at 10:00." in body
    assert f"Accept the appointment:\n{OFFER_LINKS.accept_url}\n" in body
    assert "Termin" not in body


def test_an_answered_offer_is_obsolete_and_links_are_required() -> None:
    accepted = msgspec.structs.replace(
        OFFER, appointment=msgspec.structs.replace(OFFER.appointment, status="booked")
    )
    with pytest.raises(Obsolete):
        offer(accepted)
    with pytest.raises(ValueError, match="accept_url"):
        build_message(
            "waitlist_offer", OFFER, SETTINGS, NOW, message_id="<o@x>",
            links=Links(manage_url=OFFER_LINKS.manage_url), documents=[],
        )  # fmt: skip


def test_the_confirmation_of_a_request_shows_it_and_asks_to_confirm() -> None:
    msg = confirmation()
    assert msg["Subject"] == "Bitte bestätigen: Ihre Anfrage für die Warteliste"
    assert msg["To"].addresses[0].addr_spec == "wilma@example.org"
    assert msg["Reply-To"] is None
    assert msg.get_content_type() == "multipart/alternative"
    body = text(msg)
    assert "bis Montag, 30. November 2026, 08:30 Uhr Ihre E-Mail-Adresse" in body
    assert "2 Stunden lang" in body
    assert f"Anfrage bestätigen:\n{ENTRY_LINKS.confirm_url}\n" in body
    assert f"verlassen:\n{ENTRY_LINKS.leave_url}\n" in body
    assert "Bürgeramt Musterstadt-Mitte" in body
    assert "Bürgeramt Musterstadt-Nord" in body
    assert "1. Dezember 2026 bis 18. Dezember 2026" in body
    assert "Di., Do." in body
    assert "ab 09:00 Uhr" in body
    assert "Buchungscode" not in body  # nothing booked yet
    html = msg.get_body(("html",))
    assert html is not None
    assert 'lang="de"' in html.get_content()


def test_the_confirmation_of_a_request_in_english_and_at_any_time() -> None:
    entry = msgspec.structs.replace(REQUEST.entry, language="en", time_from=None)
    body = text(confirmation(msgspec.structs.replace(REQUEST, entry=entry)))
    assert "Please confirm your email address by Monday, 30 November 2026 at 08:30." in body
    assert "for 2 hours" in body
    assert "Tue, Thu" in body
    assert "any time" in body


def test_a_request_no_longer_pending_is_obsolete() -> None:
    for status in ("active", "cancelled", "expired"):
        entry = msgspec.structs.replace(REQUEST.entry, status=status)
        with pytest.raises(Obsolete):
            confirmation(msgspec.structs.replace(REQUEST, entry=entry))
