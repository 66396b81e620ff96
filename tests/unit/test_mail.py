"""The citizen's emails, parsed back the way a mail client reads them."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage, Message, MIMEPart
from email.utils import parseaddr, parsedate_to_datetime
from io import BytesIO
from typing import Any, get_args

import msgspec
import pytest
import segno
from aiosmtplib.email import flatten_message
from icalendar import Calendar, Event
from PIL import Image

from booking.appointments import Booking
from booking.db.appointments import Appointment, BookedService
from booking.db.offers import SetLocation
from booking.mail import Kind, Links, Obsolete, build_message
from booking.settings import Settings
from booking.smtp import written

SETTINGS = Settings(public_url="https://termine.musterstadt.example")
NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
MESSAGE_ID = "<3f2c9a7e-outbox-17@termine.musterstadt.example>"
LINKS = Links(
    manage_url="https://termine.musterstadt.example/termin/K7M3QX?token=manage-secret",
    confirm_url="https://termine.musterstadt.example/termin/K7M3QX/bestaetigen?token=c&x=1",
    cancel_url="https://termine.musterstadt.example/termin/K7M3QX/absagen?token=manage-secret",
    accept_url="https://termine.musterstadt.example/warteliste/angebot/K7M3QX?token=c&x=1",
    decline_url="https://termine.musterstadt.example/warteliste/angebot/K7M3QX/ablehnen?token=m",
)
DOCUMENTS = ["Bisheriger Ausweis oder Pass", "Ein aktuelles biometrisches Passfoto"]
STATUS: dict[Kind, str] = {
    "confirmation_request": "pending",
    "confirmation": "booked",
    "reschedule": "booked",
    "cancellation": "cancelled",
    "reminder": "booked",
    "waitlist_offer": "pending",
}
KINDS: tuple[Kind, ...] = get_args(Kind)
HOSTILE = 'Erika <script>alert("x")</script> Mustermann'

LOCATION = SetLocation(
    id=1, slug="mitte", name_de="Bürgeramt Musterstadt-Mitte",
    name_en="Citizens' Office Musterstadt Centre", street="Rathausplatz 1", postal_code="12345",
    city="Musterstadt", email="buergeramt-mitte@musterstadt.example",
    time_zone="Europe/Berlin", grid_minutes=10, horizon_days=60, min_lead_minutes=60,
    cancel_deadline_minutes=120, reminder_minutes=1440, requires_confirmation=True,
    total_minutes=20, service_ids=[1, 2, 2],
)  # fmt: skip
SERVICES = [
    BookedService("personalausweis", "Personalausweis beantragen", "Apply for an identity card", 1),
    BookedService("reisepass", "Reisepass beantragen", "Apply for a passport", 2),
]


def booking(
    kind: Kind = "confirmation",
    *,
    starts_at: datetime = datetime(2026, 12, 1, 8, 0, tzinfo=UTC),  # 09:00 in Berlin
    **changes: Any,
) -> Booking:
    appointment = Appointment(
        id=7, code="K7M3QX", location_id=1, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20), status=STATUS[kind],
        citizen_name="Erika Mustermann", email="erika@example.org", phone=None, language="de",
        manage_token_hash=b"h", confirm_token_hash=None, token_salt=b"s",
        pending_until=datetime(2026, 11, 20, 13, 30, tzinfo=UTC), sequence=0,
        service_key="1,2", booked_by="citizen",
    )  # fmt: skip
    return Booking(
        appointment=msgspec.structs.replace(appointment, **changes),
        location=LOCATION,
        services=SERVICES,
        manage_token="manage-secret",
    )


def sent(kind: Kind, subject: Booking | None = None, **changes: Any) -> EmailMessage:
    """Build, serialise and parse back, as the receiving client would."""
    built = build_message(
        kind,
        subject or booking(kind, **changes),
        SETTINGS,
        NOW,
        message_id=MESSAGE_ID,
        links=LINKS,
        documents=DOCUMENTS,
    )
    return read_back(built)


def read_back(built: Message) -> EmailMessage:
    """What a mail client parses from the bytes the worker sends."""
    parsed = email.message_from_bytes(written(built), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def tree(part: MIMEPart) -> Any:
    if part.is_multipart():
        return (part.get_content_type(), [tree(p) for p in part.iter_parts()])
    return part.get_content_type()


def parts(msg: EmailMessage, content_type: str) -> list[EmailMessage]:
    return [p for p in msg.walk() if p.get_content_type() == content_type]


def text(msg: EmailMessage, subtype: str = "plain") -> str:
    """A body part with its wire line ends (CRLF) read back as newlines."""
    body = msg.get_body((subtype,))
    assert body is not None
    content: str = body.get_content()
    return content.replace("\r\n", "\n")


def html(msg: EmailMessage) -> str:
    return text(msg, "html")


def calendar_of(msg: EmailMessage) -> tuple[EmailMessage, Calendar, Event]:
    (part,) = parts(msg, "text/calendar")
    raw = part.get_payload(decode=True)
    assert isinstance(raw, bytes)
    cal = Calendar.from_ical(raw)
    (event,) = cal.walk("VEVENT")
    assert isinstance(event, Event)
    return part, cal, event


# -- structure -----------------------------------------------------------------------------

RELATED = ("multipart/related", ["text/html", "image/png"])


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("confirmation_request", ("multipart/alternative", ["text/plain", "text/html"])),
        ("reminder", ("multipart/alternative", ["text/plain", RELATED])),
        *[
            (kind, ("multipart/mixed", [
                ("multipart/alternative", ["text/plain", RELATED, "text/calendar"]),
                "application/ics",
            ]))
            for kind in ("confirmation", "reschedule")
        ],
        ("cancellation", ("multipart/mixed", [
            ("multipart/alternative", ["text/plain", "text/html", "text/calendar"]),
            "application/ics",
        ])),
    ],
)  # fmt: skip
def test_each_kind_has_its_mime_tree(kind: Kind, expected: Any) -> None:
    assert tree(sent(kind)) == expected


@pytest.mark.parametrize(
    ("kind", "method"),
    [("confirmation", "REQUEST"), ("reschedule", "REQUEST"), ("cancellation", "CANCEL")],
)
def test_the_mime_method_is_the_calendars_method(kind: Kind, method: str) -> None:
    msg = sent(kind)
    part, cal, event = calendar_of(msg)
    assert part.get_param("method") == method == cal["METHOD"]
    assert part.get_content_charset() == "utf-8"
    (attachment,) = parts(msg, "application/ics")
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == part.get_payload(decode=True)
    assert event["STATUS"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_is_ever_published(kind: Kind) -> None:
    msg = sent(kind)
    assert b"PUBLISH" not in msg.as_bytes()
    for part in msg.walk():
        payload = part.get_payload(decode=True)
        assert not isinstance(payload, bytes) or b"PUBLISH" not in payload.upper()


def test_one_uid_and_a_growing_sequence_over_the_appointments_life() -> None:
    confirmed = calendar_of(sent("confirmation", sequence=0))[2]
    moved = calendar_of(
        sent("reschedule", starts_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC), sequence=1)
    )[2]
    cancelled = calendar_of(sent("cancellation", sequence=2))[2]
    assert confirmed["UID"] == moved["UID"] == cancelled["UID"]
    assert confirmed["UID"] == "appointment-K7M3QX@termine.musterstadt.example"
    assert [e["SEQUENCE"] for e in (confirmed, moved, cancelled)] == [0, 1, 2]
    assert moved.decoded("DTSTART") == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local_day", "utc_start"),
    [
        (datetime(2026, 3, 27, 8, 0, tzinfo=UTC), "20260327T080000Z"),  # CET, UTC+1
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "20260330T070000Z"),  # CEST, UTC+2
    ],
)
def test_nine_oclock_local_is_exact_in_utc_on_both_sides_of_the_dst_change(
    local_day: datetime, utc_start: str
) -> None:
    msg = sent("confirmation", starts_at=local_day)
    part, _, event = calendar_of(msg)
    raw = part.get_payload(decode=True)
    assert isinstance(raw, bytes)
    assert f"DTSTART:{utc_start}".encode() in raw
    assert event.decoded("DTSTART") == local_day
    assert "09:00 Uhr" in str(msg["Subject"])
    assert "09:00 Uhr" in text(msg)


# -- headers and language ------------------------------------------------------------------


def test_headers() -> None:
    msg = sent("confirmation")
    assert msg["Message-ID"] == MESSAGE_ID
    assert parsedate_to_datetime(str(msg["Date"])) == NOW
    assert msg["From"] == SETTINGS.mail_from
    assert msg["To"].addresses[0].addr_spec == "erika@example.org"
    assert msg["Reply-To"] == LOCATION.email
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Content-Language"] == "de"
    assert msg["MIME-Version"] == "1.0"


GERMAN_SUBJECTS: dict[Kind, str] = {
    "confirmation_request": "Bitte bestätigen: Ihr Termin am",
    "confirmation": "Bestätigt: Ihr Termin am",
    "reschedule": "Verschoben: Ihr neuer Termin am",
    "cancellation": "Abgesagt: Ihr Termin am",
    "reminder": "Erinnerung: Ihr Termin am",
    "waitlist_offer": "Für Sie frei geworden: Termin am",
}
ENGLISH_SUBJECTS: dict[Kind, str] = {
    "confirmation_request": "Please confirm: your appointment on",
    "confirmation": "Confirmed: your appointment on",
    "reschedule": "Moved: your new appointment on",
    "cancellation": "Cancelled: your appointment on",
    "reminder": "Reminder: your appointment on",
    "waitlist_offer": "Available for you: an appointment on",
}


@pytest.mark.parametrize("kind", KINDS)
def test_german_is_the_default(kind: Kind) -> None:
    msg = sent(kind)
    # Exact, spaces included: a folded Subject must decode to what was written.
    assert msg["Subject"] == (
        f"{GERMAN_SUBJECTS[kind]} Dienstag, 1. Dezember 2026, 09:00 Uhr "
        "\N{EN DASH} Bürgeramt Musterstadt-Mitte"
    )
    body = text(msg)
    assert body.startswith("Guten Tag Erika Mustermann,\n")
    assert "Mit freundlichen Grüßen\nBürgeramt Musterstadt-Mitte" in body
    assert "Anliegen: Personalausweis beantragen\n" in body
    assert "2 \N{MULTIPLICATION SIGN} Reisepass beantragen" in body
    assert "Rathausplatz 1" in body
    assert "12345 Musterstadt" in body
    assert 'lang="de"' in html(msg)


@pytest.mark.parametrize("kind", KINDS)
def test_english_when_the_citizen_chose_it(kind: Kind) -> None:
    msg = sent(kind, language="en")
    assert msg["Subject"] == (
        f"{ENGLISH_SUBJECTS[kind]} Tuesday, 1 December 2026 at 09:00 "
        "\N{EN DASH} Citizens' Office Musterstadt Centre"
    )
    assert msg["Content-Language"] == "en"
    body = text(msg)
    assert body.startswith("Dear Erika Mustermann,\n")
    assert "Kind regards\nCitizens' Office Musterstadt Centre" in body
    assert "2 \N{MULTIPLICATION SIGN} Apply for a passport" in body
    assert "Uhr" not in body
    assert "Termin" not in body
    assert 'lang="en"' in html(msg)


def test_a_citizen_without_a_name_is_greeted_politely() -> None:
    msg = sent("confirmation", citizen_name=None)
    assert text(msg).startswith("Guten Tag,\n")
    assert msg["To"] == "erika@example.org"


# -- content -------------------------------------------------------------------------------


def test_the_confirmation_request_asks_to_confirm_and_invites_nothing() -> None:
    msg = sent("confirmation_request")
    body, page = text(msg), html(msg)
    assert LINKS.confirm_url is not None
    assert LINKS.confirm_url in body
    assert f'href="{LINKS.confirm_url.replace("&", "&amp;")}"' in page
    assert "bis Freitag, 20. November 2026, 14:30 Uhr für Sie frei" in body  # pending_until
    assert not parts(msg, "text/calendar")
    assert not parts(msg, "application/ics")
    assert not parts(msg, "image/png")  # nothing to scan before it is confirmed
    assert "VCALENDAR" not in msg.as_string()


def test_the_reminder_offers_a_page_to_cancel_and_carries_no_invitation() -> None:
    msg = sent("reminder")
    assert LINKS.cancel_url is not None
    assert f"Ich kann nicht kommen:\n{LINKS.cancel_url}\n" in text(msg)
    assert f'href="{LINKS.cancel_url}"' in html(msg)
    assert not parts(msg, "text/calendar")
    assert not parts(msg, "application/ics")
    english = sent("reminder", language="en")
    assert f"I cannot come:\n{LINKS.cancel_url}\n" in text(english)


@pytest.mark.parametrize("kind", KINDS)
def test_every_mail_has_the_code_and_the_manage_link(kind: Kind) -> None:
    msg = sent(kind)
    assert "Ihr Buchungscode: K7M3QX" in text(msg)
    assert ">K7M3QX</p>" in html(msg)  # as text, not only inside the image
    assert LINKS.manage_url in text(msg)
    assert f'href="{LINKS.manage_url}"' in html(msg)


def test_documents_to_bring_are_listed_once_each() -> None:
    built = build_message(
        "confirmation",
        booking(),
        SETTINGS,
        NOW,
        message_id=MESSAGE_ID,
        links=LINKS,
        documents=[*DOCUMENTS, DOCUMENTS[0]],
    )
    body = text(read_back(built))
    assert body.count(DOCUMENTS[0]) == 1
    assert "Bitte bringen Sie mit:\n- Bisheriger Ausweis oder Pass\n- Ein aktuelles" in body
    assert f"<li>{DOCUMENTS[1]}</li>" in html(sent("confirmation"))


def test_a_cancellation_asks_for_no_documents_and_offers_a_new_booking() -> None:
    body = text(sent("cancellation"))
    assert "Bitte bringen Sie mit" not in body
    assert f"Neuen Termin buchen:\n{SETTINGS.public_url}\n" in body


def png_matrix(png: bytes, scale: int, border: int) -> tuple[int, list[list[bool]]]:
    """The dark modules of a black-and-white PNG, each module ``scale`` pixels square."""
    image = Image.open(BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert width == height
    grey = image.convert("L")
    colours = grey.getcolors()
    assert colours is not None
    assert {value for _, value in colours} <= {0, 255}  # sharp black and white, nothing blurred
    modules = width // scale - 2 * border

    def dark(column: int, row: int) -> bool:
        x, y = (border + column) * scale, (border + row) * scale
        corners = {
            grey.getpixel((x + dx, y + dy)) for dx in (0, scale - 1) for dy in (0, scale - 1)
        }
        assert len(corners) == 1  # a module is one square, not smeared into its neighbours
        return corners == {0}

    return width, [[dark(c, r) for c in range(modules)] for r in range(modules)]


def test_the_qr_code_is_the_booking_code_inline_by_content_id() -> None:
    msg = sent("confirmation")
    (image,) = parts(msg, "image/png")
    cid = str(image["Content-ID"]).strip("<>")
    match = re.search(
        r'<img src="cid:([^"]+)" alt="([^"]+)" width="(\d+)" height="(\d+)"', html(msg)
    )
    assert match is not None
    assert match[1] == cid
    assert match[2] == "QR-Code für das Terminal: Buchungscode K7M3QX"
    png = image.get_payload(decode=True)
    assert isinstance(png, bytes)
    width, matrix = png_matrix(png, scale=8, border=4)
    assert int(match[3]) == int(match[4]) == width
    # The code as a QR code at error level M (or better), under whichever of the eight masks:
    # every reader tries them all.
    encodings = [segno.make_qr("K7M3QX", error="m", mask=mask).matrix for mask in range(8)]
    assert matrix in [[[bool(m) for m in row] for row in expected] for expected in encodings]
    assert len(matrix) >= 21  # a full QR code, not Micro QR


@pytest.mark.parametrize("kind", KINDS)
def test_html_escapes_a_hostile_name_and_fetches_nothing(kind: Kind) -> None:
    msg = sent(kind, citizen_name=HOSTILE)
    page = html(msg)
    assert "<script" not in page.lower()
    assert "Erika &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Mustermann" in page
    assert all(src.startswith("cid:") for src in re.findall(r'src="([^"]*)"', page))
    assert "<link" not in page
    assert "url(" not in page
    assert text(msg).startswith(f"Guten Tag {HOSTILE},\n")
    assert msg["To"].addresses[0].display_name == HOSTILE
    assert msg["To"].addresses[0].addr_spec == "erika@example.org"


def test_a_line_break_in_the_name_reaches_no_header() -> None:
    msg = sent("confirmation", citizen_name="Erika\r\nBcc: victim@example.org")
    assert msg["Bcc"] is None
    assert msg["To"].addresses[0].display_name == "Erika Bcc: victim@example.org"


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"),
    [("confirmation", "cancelled"), ("reminder", "cancelled"), ("reschedule", "expired"),
     ("confirmation_request", "expired"), ("cancellation", "booked")],
)  # fmt: skip
def test_a_message_the_appointment_has_outgrown_is_obsolete(kind: Kind, status: str) -> None:
    with pytest.raises(Obsolete):
        sent(kind, booking(kind, status=status))


def test_missing_links_are_a_callers_mistake() -> None:
    plain = Links(manage_url=LINKS.manage_url)
    for kind in ("confirmation_request", "reminder"):
        with pytest.raises(ValueError, match="needs"):
            build_message(
                kind, booking(kind), SETTINGS, NOW, message_id=MESSAGE_ID, links=plain,
                documents=[],
            )  # fmt: skip
    with pytest.raises(ValueError, match="no email address"):
        build_message(
            "confirmation", booking(email=None), SETTINGS, NOW, message_id=MESSAGE_ID,
            links=LINKS, documents=[],
        )  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_the_worker_writes_each_mail_byte_for_byte_as_aiosmtplib_would(kind: Kind) -> None:
    built = build_message(
        kind, booking(kind, citizen_name="Jörg Müller-Lüdenscheidt " * 4), SETTINGS, NOW,
        message_id=MESSAGE_ID, links=LINKS, documents=DOCUMENTS,
    )  # fmt: skip
    assert written(built) == flatten_message(built)


# -- names and texts of any shape ----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        " ".join(["Jörg Müller-Lüdenscheidt von und zu Gänseblümchenhausen am Großen See"] * 3),
        "李小龍",
        'O\'Brien "Bob" \\ Smith',
        "Doe, John",
    ],
)
def test_any_name_reaches_the_to_header_exactly(name: str) -> None:
    built = build_message(
        "confirmation", booking(citizen_name=name), SETTINGS, NOW, message_id=MESSAGE_ID,
        links=LINKS, documents=[],
    )  # fmt: skip
    assert written(built) == flatten_message(built)  # folded where it must be, the same way
    raw = email.message_from_bytes(written(built), policy=email.policy.compat32)["To"]
    assert all(len(line) <= 78 for line in raw.splitlines())
    words, address = parseaddr(raw)
    # As RFC 2047 reads it: mail clients drop the space between two encoded words (Python's
    # address parser keeps it, so it would show a long name with spaces where it was folded).
    assert str(make_header(decode_header(words))) == name
    assert address == "erika@example.org"
    assert text(read_back(built)).startswith(f"Guten Tag {name},\n")


def test_the_calendar_reads_back_what_was_written_whatever_the_names() -> None:
    odd = 'Bürgeramt "Mitte"; Haus 2, Raum 3: Ebene \\ 1 ^ \N{RIGHT SINGLE QUOTATION MARK}'
    location = msgspec.structs.replace(LOCATION, name_de=odd, street="Am Markt 1;2")
    services = [BookedService("x", "Ausweis, vorläufig; mit Foto\nund Kopie", "x", 1)]
    subject = msgspec.structs.replace(
        booking(citizen_name='Erika "E" Müller; Köln, Rhein'), location=location,
        services=services,
    )  # fmt: skip
    _, _, event = calendar_of(sent("confirmation", subject))
    assert (
        str(event["SUMMARY"])
        == f"Termin: Ausweis, vorläufig; mit Foto\nund Kopie \N{EN DASH} {odd}"
    )
    assert str(event["LOCATION"]) == f"{odd}, Am Markt 1;2, 12345 Musterstadt"
    assert (
        str(event["DESCRIPTION"]) == "Buchungscode: K7M3QX\nAusweis, vorläufig; mit Foto\nund Kopie"
    )
    assert event["ORGANIZER"].params["CN"] == odd
    assert event["ATTENDEE"].params["CN"] == 'Erika "E" Müller; Köln, Rhein'
