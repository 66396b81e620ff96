"""The emails citizens get about an appointment, built from the booking alone (no I/O).

Invitations follow RFC 6047 the way Outlook, Gmail, Apple Mail and Thunderbird read them:

    multipart/mixed
      multipart/alternative
        text/plain
        multipart/related (type="text/html")
          text/html
          image/png        QR code of the booking code, inline by Content-ID
        text/calendar; method=REQUEST|CANCEL
      application/ics      invite.ics, the same calendar bytes

The calendar part comes last in the alternative, so clients that understand iTIP prefer it;
the attachment is there for clients that only look at attachments. Mails without an
invitation (confirmation request, reminder) are the multipart/alternative alone, and mails
without a QR code (confirmation request, cancellation) carry the bare text/html part.

The waitlist's two mails follow the same shape: an offer (``waitlist_offer``) is about a
pending appointment like a confirmation request; the confirmation of a waitlist request is
about the request alone (``build_waitlist_confirmation``). A call-ahead mail
(``build_call_ahead``) is about a waiting ticket: its number and how close its turn is.

Nothing here logs: names and addresses stay in the message.
"""

from __future__ import annotations

from datetime import date, datetime, time
from email.charset import BASE64, QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime as rfc5322_date
from email.utils import formataddr, parseaddr
from html import escape
from io import BytesIO
from secrets import token_hex
from typing import Final, Literal, NamedTuple

import msgspec
import segno
from babel.dates import format_date, format_datetime, get_day_names
from babel.units import format_unit
from PIL import Image

from booking import calendar
from booking.appointments import Booking
from booking.settings import Settings
from booking.waitlist import EntryView

Kind = Literal[
    "confirmation_request",
    "confirmation",
    "reschedule",
    "cancellation",
    "reminder",
    "waitlist_offer",
]
Language = Literal["de", "en"]


class Links(msgspec.Struct, frozen=True, kw_only=True):
    """The citizen's links; each opens a page, and only that page's button changes anything."""

    manage_url: str
    confirm_url: str | None = None  # confirmation_request only
    cancel_url: str | None = None  # reminder only: the "I cannot come" page
    accept_url: str | None = None  # waitlist_offer only, like decline_url
    decline_url: str | None = None


class WaitlistLinks(msgspec.Struct, frozen=True, kw_only=True):
    """The pages to confirm a waitlist request and to leave the waitlist."""

    confirm_url: str
    leave_url: str


class Obsolete(Exception):
    """The appointment has moved on since the message was queued; send nothing for it.

    A confirmation or reminder for a cancelled appointment would put a REQUEST into the
    citizen's calendar for a time that no longer exists.
    """


# The status an appointment must still have for each kind of message to make sense.
_EXPECTED_STATUS: Final[dict[Kind, str]] = {
    "confirmation_request": "pending",
    "confirmation": "booked",
    "reschedule": "booked",
    "cancellation": "cancelled",
    "reminder": "booked",
    "waitlist_offer": "pending",
}

# A reminder carries no invitation: it changes nothing, and repeating a REQUEST with an
# unchanged SEQUENCE would at best be ignored and at worst bring back an event the citizen
# has deleted. The confirmation request has none because nothing is booked yet.
_METHOD: Final[dict[Kind, calendar.Method | None]] = {
    "confirmation_request": None,
    "confirmation": "REQUEST",
    "reschedule": "REQUEST",
    "cancellation": "CANCEL",
    "reminder": None,
    "waitlist_offer": None,
}

# The QR code is only shown while it can be scanned: not before confirmation, not once void.
_WITH_QR: Final = frozenset({"confirmation", "reschedule", "reminder"})


# The mails are assembled with the ``email.mime`` classes on the compat32 policy: the newer
# policy parses every header it is given back into objects (and again when it writes them),
# which took over half the CPU of building a mail. Compat32 writes what it is given; the
# headers that need encoding (names, subjects) are encoded here with ``Header``.
_QUOTED_PRINTABLE: Final = Charset("utf-8")
_QUOTED_PRINTABLE.body_encoding = QP  # readable in the source, and no 8BITMIME needed
# Encoded words in base64: choosing the shorter of Q and B measured both, character by
# character, and was the most expensive part of writing a mail's headers.
_ENCODED_WORDS: Final = Charset("utf-8")
_ENCODED_WORDS.header_encoding = BASE64


class _Words(NamedTuple):
    locale: str
    when: str  # "{date}" and "{time}"
    subject: dict[Kind, str]  # "{when}" and "{office}"
    heading: dict[Kind, str]
    lead: dict[Kind, tuple[str, ...]]  # "{until}" and "{when}"
    greeting: str
    greeting_anonymous: str
    confirm_button: str
    not_me: str
    cancel_button: str
    button_fallback: str
    appointment: str
    label_when: str
    label_where: str
    label_services: str
    code: str
    check_in: str
    qr_alt: str
    bring: str
    manage: str
    manage_cancelled: str
    book_again: str
    closing: str
    automatic: str
    questions: str
    accept_button: str
    decline_button: str
    offer_not_wanted: str
    waitlist_subject: str
    waitlist_heading: str
    waitlist_lead: tuple[str, ...]  # "{until}" and "{offer}" (how long an offer is held)
    waitlist_confirm_button: str
    waitlist_not_me: str
    waitlist_request: str
    label_locations: str
    label_days: str
    label_weekdays: str
    label_times: str
    days_between: str  # "{first}" and "{last}"
    any_time: str
    times_between: str  # "{start}" and "{end}"
    times_from: str
    times_until: str
    leave: str
    signature: str


_GERMAN: Final = _Words(
    locale="de_DE",
    when="{date}, {time} Uhr",
    # The office goes after a dash: its name cannot be declined safely ("im Bürgeramt" but
    # "in der Kfz-Zulassungsstelle").
    subject={
        "confirmation_request": "Bitte bestätigen: Ihr Termin am {when} \N{EN DASH} {office}",
        "confirmation": "Bestätigt: Ihr Termin am {when} \N{EN DASH} {office}",
        "reschedule": "Verschoben: Ihr neuer Termin am {when} \N{EN DASH} {office}",
        "cancellation": "Abgesagt: Ihr Termin am {when} \N{EN DASH} {office}",
        "reminder": "Erinnerung: Ihr Termin am {when} \N{EN DASH} {office}",
        "waitlist_offer": "Für Sie frei geworden: Termin am {when} \N{EN DASH} {office}",
    },
    heading={
        "confirmation_request": "Bitte bestätigen Sie Ihren Termin",
        "confirmation": "Ihr Termin ist gebucht",
        "reschedule": "Ihr Termin wurde verschoben",
        "cancellation": "Ihr Termin wurde abgesagt",
        "reminder": "Erinnerung an Ihren Termin",
        "waitlist_offer": "Ein Termin von der Warteliste für Sie",
    },
    lead={
        "confirmation_request": (
            "vielen Dank für Ihre Buchung. Wir halten den Termin bis {until} für Sie frei.",
            "Bitte bestätigen Sie ihn bis dahin. Ohne Bestätigung verfällt die Reservierung "
            "und der Termin wird wieder freigegeben.",
        ),
        "confirmation": (
            "Ihr Termin ist verbindlich gebucht. Die Einladung für Ihren Kalender ist "
            "dieser E-Mail beigefügt.",
        ),
        "reschedule": (
            "Ihr Termin wurde auf {when} verschoben. Es gilt nur noch der neue Termin; die "
            "beigefügte Einladung ändert den Eintrag in Ihrem Kalender.",
        ),
        "cancellation": (
            "Ihr Termin wurde abgesagt. Sie müssen nichts weiter tun; die beigefügte "
            "Nachricht entfernt den Eintrag aus Ihrem Kalender.",
        ),
        "reminder": (
            "wir erinnern Sie an Ihren Termin. Bitte kommen Sie pünktlich.",
            "Sie können nicht kommen? Bitte sagen Sie den Termin ab, damit jemand anderes "
            "ihn nutzen kann.",
        ),
        "waitlist_offer": (
            "ein Termin, der zu Ihrer Anfrage auf der Warteliste passt, ist frei geworden. "
            "Wir halten ihn bis {until} für Sie.",
            "Bitte nehmen Sie ihn bis dahin an. Danach, oder wenn Sie ablehnen, geht er an die "
            "nächste Person auf der Warteliste, und Ihre Anfrage endet.",
        ),
    },
    greeting="Guten Tag {name},",
    greeting_anonymous="Guten Tag,",
    confirm_button="Termin bestätigen",
    not_me="Sie haben diesen Termin nicht gebucht? Dann müssen Sie nichts tun; die "
    "Reservierung verfällt von selbst.",
    cancel_button="Ich kann nicht kommen",
    button_fallback="Falls die Schaltfläche nicht funktioniert, öffnen Sie diese Adresse:",
    appointment="Ihr Termin",
    label_when="Termin",
    label_where="Ort",
    label_services="Anliegen",
    code="Ihr Buchungscode",
    check_in="Bitte melden Sie sich bei Ankunft am Terminal an: Halten Sie den QR-Code an "
    "den Scanner oder geben Sie den Buchungscode ein.",
    qr_alt="QR-Code für das Terminal: Buchungscode {code}",
    bring="Bitte bringen Sie mit",
    manage="Termin ansehen, verschieben oder absagen",
    manage_cancelled="Termin ansehen",
    book_again="Neuen Termin buchen",
    closing="Mit freundlichen Grüßen",
    automatic="Diese E-Mail wurde automatisch erstellt.",
    questions="Bei Fragen schreiben Sie uns an {email}.",
    accept_button="Termin annehmen",
    decline_button="Termin ablehnen",
    offer_not_wanted="Der Termin passt doch nicht? Dann lehnen Sie ihn bitte ab, damit ihn "
    "jemand anderes bekommt.",
    waitlist_subject="Bitte bestätigen: Ihre Anfrage für die Warteliste",
    waitlist_heading="Bitte bestätigen Sie Ihre Anfrage für die Warteliste",
    waitlist_lead=(
        "Sie möchten eine Nachricht, sobald ein Termin frei wird, der zu Ihrer Anfrage passt. "
        "Bitte bestätigen Sie dafür bis {until} Ihre E-Mail-Adresse.",
        "Wird ein passender Termin frei, halten wir ihn {offer} lang für Sie und schreiben "
        "Ihnen. Nehmen Sie ihn an, ist er gebucht; lehnen Sie ab oder antworten Sie nicht, "
        "endet Ihre Anfrage.",
    ),
    waitlist_confirm_button="Anfrage bestätigen",
    waitlist_not_me="Sie haben diese Anfrage nicht gestellt? Dann müssen Sie nichts tun; sie "
    "verfällt von selbst.",
    waitlist_request="Ihre Anfrage",
    label_locations="Standorte",
    label_days="Zeitraum",
    label_weekdays="Wochentage",
    label_times="Uhrzeit",
    days_between="{first} bis {last}",
    any_time="ganztägig",
    times_between="{start}\N{EN DASH}{end} Uhr",
    times_from="ab {start} Uhr",
    times_until="bis {end} Uhr",
    leave="Anfrage zurückziehen und die Warteliste verlassen",
    signature="Ihr Bürgerservice",
)

_ENGLISH: Final = _Words(
    locale="en_GB",
    when="{date} at {time}",
    subject={
        "confirmation_request": "Please confirm: your appointment on {when} \N{EN DASH} {office}",
        "confirmation": "Confirmed: your appointment on {when} \N{EN DASH} {office}",
        "reschedule": "Moved: your new appointment on {when} \N{EN DASH} {office}",
        "cancellation": "Cancelled: your appointment on {when} \N{EN DASH} {office}",
        "reminder": "Reminder: your appointment on {when} \N{EN DASH} {office}",
        "waitlist_offer": "Available for you: an appointment on {when} \N{EN DASH} {office}",
    },
    heading={
        "confirmation_request": "Please confirm your appointment",
        "confirmation": "Your appointment is booked",
        "reschedule": "Your appointment has been moved",
        "cancellation": "Your appointment has been cancelled",
        "reminder": "A reminder of your appointment",
        "waitlist_offer": "An appointment from the waitlist for you",
    },
    lead={
        "confirmation_request": (
            "Thank you for booking. We are holding the appointment for you until {until}.",
            "Please confirm it by then. Without confirmation the reservation lapses and the "
            "time is offered to others again.",
        ),
        "confirmation": (
            "Your appointment is booked. The invitation for your calendar is attached to "
            "this email.",
        ),
        "reschedule": (
            "Your appointment has been moved to {when}. Only the new time is valid; the "
            "attached invitation updates the entry in your calendar.",
        ),
        "cancellation": (
            "Your appointment has been cancelled. You need not do anything else; the "
            "attached message removes the entry from your calendar.",
        ),
        "reminder": (
            "This is a reminder of your appointment. Please arrive on time.",
            "Cannot come? Please cancel the appointment so that someone else can use it.",
        ),
        "waitlist_offer": (
            "An appointment that matches your waitlist request has become free. We are "
            "holding it for you until {until}.",
            "Please accept it by then. After that, or if you decline, it goes to the next "
            "person on the waitlist and your request ends.",
        ),
    },
    greeting="Dear {name},",
    greeting_anonymous="Hello,",
    confirm_button="Confirm appointment",
    not_me="You did not book this appointment? Then you need not do anything; the "
    "reservation lapses by itself.",
    cancel_button="I cannot come",
    button_fallback="If the button does not work, open this address:",
    appointment="Your appointment",
    label_when="Date and time",
    label_where="Place",
    label_services="Services",
    code="Your booking code",
    check_in="Please check in at the terminal when you arrive: hold the QR code to the "
    "scanner or type in the booking code.",
    qr_alt="QR code for the terminal: booking code {code}",
    bring="Please bring",
    manage="View, move or cancel the appointment",
    manage_cancelled="View the appointment",
    book_again="Book a new appointment",
    closing="Kind regards",
    automatic="This email was generated automatically.",
    questions="If you have questions, write to us at {email}.",
    accept_button="Accept the appointment",
    decline_button="Decline the appointment",
    offer_not_wanted="The time does not suit you after all? Then please decline it so that "
    "someone else can have it.",
    waitlist_subject="Please confirm: your waitlist request",
    waitlist_heading="Please confirm your waitlist request",
    waitlist_lead=(
        "You would like to hear as soon as an appointment that suits your request becomes "
        "free. Please confirm your email address by {until}.",
        "When a suitable appointment becomes free, we hold it for you for {offer} and write "
        "to you. Accept it and it is booked; decline or do not answer and your request ends.",
    ),
    waitlist_confirm_button="Confirm the request",
    waitlist_not_me="You did not make this request? Then you need not do anything; it lapses "
    "by itself.",
    waitlist_request="Your request",
    label_locations="Offices",
    label_days="Dates",
    label_weekdays="Weekdays",
    label_times="Time of day",
    days_between="{first} to {last}",
    any_time="any time",
    times_between="{start}\N{EN DASH}{end}",
    times_from="from {start}",
    times_until="until {end}",
    leave="Withdraw the request and leave the waitlist",
    signature="Your citizens' services",
)

_WORDS: Final[dict[Language, _Words]] = {"de": _GERMAN, "en": _ENGLISH}


class _Content(NamedTuple):
    """What a message says, once; the text and the HTML part each render it."""

    language: Language
    subject: str
    heading: str
    greeting: str
    lead: list[str]
    action: tuple[str, str] | None  # button label, URL
    after_action: str | None
    details_heading: str
    details: list[tuple[str, list[str]]]
    code_heading: str
    code: str
    check_in: str
    qr_alt: str
    bring: str
    documents: list[str]
    links: list[tuple[str, str]]
    button_fallback: str
    closing: str
    office: str
    footer: str


def build_message(
    kind: Kind,
    booking: Booking,
    settings: Settings,
    now: datetime,
    *,
    message_id: str,
    links: Links,
    documents: list[str],
) -> Message:
    """One email about ``booking``; ``documents`` are the lines to bring, in its language.

    Raises ``Obsolete`` when the appointment's status no longer fits ``kind`` (the worker
    drops such an outbox row) and ``ValueError`` for a caller's mistake.
    """
    a = booking.appointment
    if not a.email:
        raise ValueError("the appointment has no email address")
    if a.status != _EXPECTED_STATUS[kind]:
        raise Obsolete(f"a {kind} message for an appointment that is now {a.status}")
    method = _METHOD[kind]
    content = _content(kind, booking, settings, links, documents)
    image = _qr_image(a.code, f"qr.{message_id.strip('<>')}") if kind in _WITH_QR else None
    html = _text_part(_html(content, image), "html")
    if image is not None:
        # RFC 2387 wants the root part's type
        html = _multipart("related", [html, image.part], type="text/html")
    body = [_text_part(_text(content, with_qr=image is not None), "plain"), html]
    if method is None:
        container = _multipart("alternative", body)
    else:
        ics = calendar.invitation(booking, settings, now, method)
        # Base64 keeps the calendar's CRLF line ends byte for byte.
        invitation = _binary_part(ics, "text", "calendar", charset="UTF-8", method=method)
        attachment = _binary_part(ics, "application", "ics", name="invite.ics")
        attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
        alternative = _multipart("alternative", [*body, invitation])
        container = _multipart("mixed", [alternative, attachment])
    return _envelope(
        container,
        content,
        settings,
        now,
        message_id=message_id,
        to=_address("To", _citizen_name(booking), a.email),
        reply_to=booking.location.email,
    )


def build_waitlist_confirmation(
    request: EntryView,
    settings: Settings,
    now: datetime,
    *,
    message_id: str,
    links: WaitlistLinks,
) -> Message:
    """The double opt-in for a waitlist request: confirm it, or leave the waitlist.

    Raises ``Obsolete`` once the request is no longer waiting for confirmation.
    """
    entry = request.entry
    if not entry.email:
        raise ValueError("the waitlist request has no email address")
    if entry.status != "pending" or entry.confirm_until is None:
        raise Obsolete(f"a confirmation request for a waitlist entry that is now {entry.status}")
    language: Language = "en" if entry.language == "en" else "de"
    words = _WORDS[language]
    german = language == "de"
    time_zone = request.locations[0].time_zone if request.locations else "Europe/Berlin"
    unit, amount = (
        ("hour", settings.waitlist_offer_minutes // 60)
        if settings.waitlist_offer_minutes % 60 == 0
        else ("minute", settings.waitlist_offer_minutes)
    )
    offer = format_unit(amount, f"duration-{unit}", length="long", locale=words.locale)
    name = " ".join((entry.citizen_name or "").split())
    content = _Content(
        language=language,
        subject=words.waitlist_subject,
        heading=words.waitlist_heading,
        greeting=words.greeting.format(name=name) if name else words.greeting_anonymous,
        lead=[
            line.format(until=_when(entry.confirm_until, time_zone, words), offer=offer)
            for line in words.waitlist_lead
        ],
        action=(words.waitlist_confirm_button, links.confirm_url),
        after_action=words.waitlist_not_me,
        details_heading=words.waitlist_request,
        details=[
            (words.label_services, [s.name_de if german else s.name_en for s in request.services]),
            (
                words.label_locations,
                [place.name_de if german else place.name_en for place in request.locations],
            ),
            (
                words.label_days,
                [
                    words.days_between.format(
                        first=_day(entry.earliest_day, words), last=_day(entry.latest_day, words)
                    )
                ],
            ),
            (words.label_weekdays, [_weekdays(entry.weekdays, words)]),
            (words.label_times, [_times(entry.time_from, entry.time_until, words)]),
        ],
        code_heading="",
        code="",
        check_in="",
        qr_alt="",
        bring="",
        documents=[],
        links=[(words.leave, links.leave_url)],
        button_fallback=words.button_fallback,
        closing=words.closing,
        office=words.signature,
        footer=words.automatic,
    )
    return _envelope(
        _without_attachments(content),
        content,
        settings,
        now,
        message_id=message_id,
        to=_address("To", name, entry.email),
        reply_to="",
    )


def _envelope(
    msg: Message,
    content: _Content,
    settings: Settings,
    now: datetime,
    *,
    message_id: str,
    to: str,
    reply_to: str,
) -> Message:
    """``msg``, the mail's outermost part, with the mail's headers."""
    msg["From"] = _address("From", *parseaddr(settings.mail_from))
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = _words("Subject", content.subject)
    msg["Date"] = rfc5322_date(now)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    msg["Content-Language"] = content.language
    msg["MIME-Version"] = "1.0"
    return msg


def _address(header: str, name: str, address: str) -> str:
    """A mailbox for an address header, the name quoted or encoded as RFC 5322 and 2047 ask.

    A name outside ASCII becomes encoded words of at most 75 characters each, separated by
    spaces, so the header folds between them (``formataddr`` would make one long word).
    """
    if name.isascii():
        return formataddr((name, address))
    return f"{_words(header, name)} <{address}>"


def _words(header: str, text: str) -> str:
    """``text`` for ``header``, as RFC 2047 encoded words where it is not ASCII.

    Encoded here, the header is ASCII when the message is written, which folds it cheaply.
    """
    if text.isascii():
        return text
    return Header(text, _ENCODED_WORDS, header_name=header).encode(linesep="")


def _day(day: date, words: _Words) -> str:
    return format_date(day, "long", locale=words.locale)


def _weekdays(weekdays: list[int], words: _Words) -> str:
    names = get_day_names("abbreviated", locale=words.locale)
    return ", ".join(str(names[day - 1]) for day in sorted(weekdays))


def _times(start: time | None, end: time | None, words: _Words) -> str:
    shown = {"start": f"{start:%H:%M}" if start else "", "end": f"{end:%H:%M}" if end else ""}
    if start and end:
        return words.times_between.format(**shown)
    if start:
        return words.times_from.format(**shown)
    if end:
        return words.times_until.format(**shown)
    return words.any_time


class _Image(NamedTuple):
    part: Message
    cid: str
    pixels: int


_QR_MASK: Final = 2
_QR_SCALE: Final = 8  # pixels per module: 232 px for a version 1 code with its border
_QR_BORDER: Final = 4  # the quiet zone the QR standard asks for
# segno's modules (1 dark, 0 light) as 8-bit grey: dark is black (0), light white (255).
_LIGHT: Final = bytes([255] + [0] * 255)


def _qr_image(code: str, cid: str) -> _Image:
    """The booking code for the kiosk scanner; the Content-ID follows the stable Message-ID."""
    # A full QR code (kiosk scanners need not read Micro QR), with a fixed mask: choosing the
    # best of eight took half the time of building a mail, and every reader reads them all.
    qr = segno.make_qr(code, error="m", mask=_QR_MASK)
    modules = int(qr.symbol_size(scale=1, border=_QR_BORDER)[0])
    part = _binary_part(_png(qr, modules), "image", "png")
    part.add_header("Content-Disposition", "inline", filename=f"{code}.png")
    part["Content-ID"] = f"<{cid}>"
    return _Image(part, cid, modules * _QR_SCALE)


def _png(qr: segno.QRCode, modules: int) -> bytes:
    """The code as a black-and-white PNG.

    Pillow scales and compresses in C; segno's own PNG writer builds every pixel row in
    Python, which at this scale was a fifth of the CPU a confirmation cost the worker.
    """
    quiet = b"\xff" * _QR_BORDER
    rows = [quiet + row.translate(_LIGHT) + quiet for row in qr.matrix]
    blank = [b"\xff" * modules] * _QR_BORDER
    light = b"".join([*blank, *rows, *blank])
    image = Image.frombytes("L", (modules, modules), light).convert("1", dither=Image.Dither.NONE)
    side = modules * _QR_SCALE
    png = BytesIO()
    # Level 1 compresses a two-colour image almost as well as the default, in half the time.
    image.resize((side, side), Image.Resampling.NEAREST).save(png, "PNG", compress_level=1)
    return png.getvalue()


def _text_part(text: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype, policy=compat32)
    part.set_payload(text, _QUOTED_PRINTABLE)
    return _bare(part)


def _binary_part(data: bytes, maintype: str, subtype: str, **params: str) -> Message:
    part = _bare(MIMENonMultipart(maintype, subtype, policy=compat32, **params))
    part.set_payload(data)
    encode_base64(part)
    return part


def _multipart(subtype: str, parts: list[Message], **params: str) -> Message:
    # "=_" never occurs in quoted-printable or base64 text, so this boundary cannot occur in
    # a part; without one, the generator makes its own and searches every part for it.
    boundary = f"=_{token_hex(12)}"
    return _bare(MIMEMultipart(subtype, boundary, _subparts=parts, policy=compat32, **params))


def _without_attachments(content: _Content) -> Message:
    plain = _text_part(_text(content, with_qr=False), "plain")
    return _multipart("alternative", [plain, _text_part(_html(content, None), "html")])


def _bare(part: Message) -> Message:
    """A part without the MIME-Version header ``email.mime`` gives each: only the mail has one."""
    del part["MIME-Version"]
    return part


def _content(
    kind: Kind, booking: Booking, settings: Settings, links: Links, documents: list[str]
) -> _Content:
    a, location = booking.appointment, booking.location
    language: Language = "en" if a.language == "en" else "de"
    words = _WORDS[language]
    german = language == "de"
    office = location.name_de if german else location.name_en
    when = _when(a.starts_at, location.time_zone, words)

    until = ""
    action: tuple[str, str] | None = None
    after_action = None
    page_links: list[tuple[str, str]] = []
    if kind == "confirmation_request":
        if links.confirm_url is None or a.pending_until is None:
            raise ValueError("a confirmation request needs confirm_url and pending_until")
        until = _when(a.pending_until, location.time_zone, words)
        action = (words.confirm_button, links.confirm_url)
        after_action = words.not_me
    elif kind == "reminder":
        if links.cancel_url is None:
            raise ValueError("a reminder needs cancel_url")
        action = (words.cancel_button, links.cancel_url)
    elif kind == "waitlist_offer":
        if links.accept_url is None or links.decline_url is None or a.pending_until is None:
            raise ValueError("a waitlist offer needs accept_url, decline_url and pending_until")
        until = _when(a.pending_until, location.time_zone, words)
        action = (words.accept_button, links.accept_url)
        after_action = words.offer_not_wanted
        page_links.append((words.decline_button, links.decline_url))

    cancelled = kind == "cancellation"
    page_links.append((words.manage_cancelled if cancelled else words.manage, links.manage_url))
    if cancelled:
        page_links.append((words.book_again, settings.public_url))
    name = _citizen_name(booking)
    return _Content(
        language=language,
        subject=words.subject[kind].format(when=when, office=office),
        heading=words.heading[kind],
        greeting=words.greeting.format(name=name) if name else words.greeting_anonymous,
        lead=[line.format(until=until, when=when) for line in words.lead[kind]],
        action=action,
        after_action=after_action,
        details_heading=words.appointment,
        details=[
            (words.label_when, [when]),
            (
                words.label_where,
                [office, location.street, f"{location.postal_code} {location.city}"],
            ),
            (
                words.label_services,
                [
                    _service(s.quantity, s.name_de if german else s.name_en)
                    for s in booking.services
                ],
            ),
        ],
        code_heading=words.code,
        code=a.code,
        check_in=words.check_in,
        qr_alt=words.qr_alt.format(code=a.code),
        bring=words.bring,
        # Services often share a document; each is listed once, in the given order.
        documents=[] if cancelled else list(dict.fromkeys(documents)),
        links=page_links,
        button_fallback=words.button_fallback,
        closing=words.closing,
        office=office,
        footer=" ".join(
            [words.automatic]
            + ([words.questions.format(email=location.email)] if location.email else [])
        ),
    )


def _citizen_name(booking: Booking) -> str:
    """On one line: a line break typed into a form must not reach a header or a greeting."""
    return " ".join((booking.appointment.citizen_name or "").split())


def _when(at: datetime, time_zone: str, words: _Words) -> str:
    """Wall time at the office, whatever zone the server or the citizen is in."""
    local = at.astimezone(calendar.zone(time_zone))
    return words.when.format(
        date=format_date(local.date(), "full", locale=words.locale),
        time=format_datetime(local, "HH:mm", tzinfo=local.tzinfo, locale=words.locale),
    )


def _service(quantity: int, name: str) -> str:
    return f"{quantity} \N{MULTIPLICATION SIGN} {name}" if quantity > 1 else name


def _text(c: _Content, *, with_qr: bool) -> str:
    lines = [c.greeting, ""]
    for paragraph in c.lead:
        lines += [paragraph, ""]
    if c.action is not None:
        lines += [f"{c.action[0]}:", c.action[1], ""]
    if c.after_action is not None:
        lines += [c.after_action, ""]
    width = max(len(label) for label, _ in c.details) + 2
    for label, values in c.details:
        lines.append(f"{label + ':':<{width}}{values[0]}")
        lines += [" " * width + value for value in values[1:]]
    lines.append("")
    if c.code:
        lines += [f"{c.code_heading}: {c.code}"]
        if with_qr:
            lines.append(c.check_in)
        lines.append("")
    if c.documents:
        lines.append(f"{c.bring}:")
        lines += [f"- {document}" for document in c.documents]
        lines.append("")
    for label, url in c.links:
        lines += [f"{label}:", url, ""]
    lines += [c.closing, c.office, "", c.footer, ""]
    return "\n".join(lines)


_TEXT_COLOUR: Final = "#1a1a1a"  # on white: 17:1
_MUTED: Final = "#4a4a4a"  # on white: 8.9:1
_BUTTON: Final = "#00467f"  # white on it: 9.6:1
_LINK: Final = "#00467f"


def _html(c: _Content, image: _Image | None) -> str:
    """Inline styles only (many clients drop <style>), no scripts, nothing fetched from afar."""
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{c.language}">',
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(c.subject)}</title></head>",
        f'<body style="margin:0;padding:0;background:#ffffff;color:{_TEXT_COLOUR};'
        'font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">',
        # Webmail drops <html>, so the language and landmark are repeated on the wrapper.
        f'<div role="article" aria-label="{escape(c.heading)}" lang="{c.language}" '
        'style="max-width:600px;margin:0 auto;padding:24px">',
        f'<p style="margin:0 0 8px;color:{_MUTED}">{escape(c.office)}</p>',
        f'<h1 style="font-size:24px;line-height:1.25;margin:0 0 16px">{escape(c.heading)}</h1>',
        f"<p>{escape(c.greeting)}</p>",
    ]
    out += [f"<p>{escape(paragraph)}</p>" for paragraph in c.lead]
    if c.action is not None:
        label, url = c.action
        out += [
            f'<p style="margin:24px 0"><a href="{escape(url)}" style="display:inline-block;'
            f"background:{_BUTTON};color:#ffffff;font-weight:bold;padding:12px 24px;"
            f'border-radius:4px;text-decoration:none">{escape(label)}</a></p>',
            f'<p style="font-size:14px;color:{_MUTED}">{escape(c.button_fallback)}<br>'
            f'<a href="{escape(url)}" style="color:{_LINK};word-break:break-all">'
            f"{escape(url)}</a></p>",
        ]
    if c.after_action is not None:
        out.append(f"<p>{escape(c.after_action)}</p>")
    out.append(f'<h2 style="font-size:20px;margin:24px 0 8px">{escape(c.details_heading)}</h2>')
    out.append('<dl style="margin:0">')
    for label, values in c.details:
        out += [
            f'<dt style="font-weight:bold;margin-top:8px">{escape(label)}</dt>',
            f'<dd style="margin:0">{"<br>".join(escape(v) for v in values)}</dd>',
        ]
    out.append("</dl>")
    if c.code:
        out += [
            f'<h2 style="font-size:20px;margin:24px 0 8px">{escape(c.code_heading)}</h2>',
            "<p style=\"font-family:'Courier New',Courier,monospace;font-size:32px;"
            f'font-weight:bold;letter-spacing:4px;margin:0 0 8px">{escape(c.code)}</p>',
        ]
    if image is not None:
        out += [
            f'<p><img src="cid:{escape(image.cid)}" alt="{escape(c.qr_alt)}" '
            f'width="{image.pixels}" height="{image.pixels}" style="display:block;border:0"></p>',
            f"<p>{escape(c.check_in)}</p>",
        ]
    if c.documents:
        out.append(f'<h2 style="font-size:20px;margin:24px 0 8px">{escape(c.bring)}</h2>')
        out.append("<ul>" + "".join(f"<li>{escape(d)}</li>" for d in c.documents) + "</ul>")
    out += [
        f'<p><a href="{escape(url)}" style="color:{_LINK}">{escape(label)}</a></p>'
        for label, url in c.links
    ]
    out += [
        f"<p>{escape(c.closing)}<br>{escape(c.office)}</p>",
        f'<hr style="border:0;border-top:1px solid {_MUTED};margin:24px 0 8px">',
        f'<p style="font-size:14px;color:{_MUTED}">{escape(c.footer)}</p>',
        "</div>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)


# -- call-ahead: a waiting ticket's turn is close --------------------------------------------


class CallAheadNotice(msgspec.Struct, frozen=True, kw_only=True):
    """What a call-ahead mail says, as of sending: ``ahead`` tickets before this one."""

    email: str
    language: str
    code: str
    office_de: str
    office_en: str
    service_de: str
    service_en: str
    ahead: int
    minutes: int
    follow_url: str


class _CallAheadWords(NamedTuple):
    subject: str  # "{code}" and "{office}"
    heading: str
    next: str  # "{code}"
    one_ahead: str
    many_ahead: str  # "{ahead}"
    minutes: str  # "{minutes}"
    come_back: str
    follow: str
    ticket: str
    number: str


_CALL_AHEAD_WORDS: Final[dict[Language, _CallAheadWords]] = {
    "de": _CallAheadWords(
        subject="Bald sind Sie dran: Nummer {code} \N{EN DASH} {office}",
        heading="Bald sind Sie an der Reihe",
        next="Ihre Nummer {code} ist als Nächste an der Reihe.",
        one_ahead="Vor Ihrer Nummer {code} ist nur noch eine Person an der Reihe.",
        many_ahead="Vor Ihrer Nummer {code} sind noch {ahead} Personen an der Reihe.",
        minutes="Die geschätzte Wartezeit beträgt etwa {minutes} Minuten.",
        come_back="Bitte kehren Sie jetzt in den Wartebereich zurück und achten Sie auf die "
        "Anzeige.",
        follow="Wartenummer verfolgen",
        ticket="Ihre Wartenummer",
        number="Nummer",
    ),
    "en": _CallAheadWords(
        subject="Almost your turn: number {code} \N{EN DASH} {office}",
        heading="Your turn is coming up",
        next="Your number {code} is next.",
        one_ahead="Only one person is ahead of your number {code}.",
        many_ahead="{ahead} people are ahead of your number {code}.",
        minutes="The estimated wait is about {minutes} minutes.",
        come_back="Please return to the waiting area now and watch the display board.",
        follow="Follow your number",
        ticket="Your waiting number",
        number="Number",
    ),
}


def build_call_ahead(
    notice: CallAheadNotice, settings: Settings, now: datetime, *, message_id: str
) -> Message:
    """The one mail a waiting citizen asked for; text and HTML, no attachments."""
    language: Language = "en" if notice.language == "en" else "de"
    words, said = _WORDS[language], _CALL_AHEAD_WORDS[language]
    german = language == "de"
    office = notice.office_de if german else notice.office_en
    if notice.ahead == 0:
        where = said.next
    elif notice.ahead == 1:
        where = said.one_ahead
    else:
        where = said.many_ahead
    lead = where.format(code=notice.code, ahead=notice.ahead)
    if notice.minutes > 0:
        lead += " " + said.minutes.format(minutes=notice.minutes)
    content = _Content(
        language=language,
        subject=said.subject.format(code=notice.code, office=office),
        heading=said.heading,
        greeting=words.greeting_anonymous,
        lead=[lead, said.come_back],
        action=(said.follow, notice.follow_url),
        after_action=None,
        details_heading=said.ticket,
        details=[
            (said.number, [notice.code]),
            (words.label_services, [notice.service_de if german else notice.service_en]),
            (words.label_where, [office]),
        ],
        code_heading="",
        code="",
        check_in="",
        qr_alt="",
        bring="",
        documents=[],
        links=[],
        button_fallback=words.button_fallback,
        closing=words.closing,
        office=office,
        footer=words.automatic,
    )
    return _envelope(
        _without_attachments(content),
        content,
        settings,
        now,
        message_id=message_id,
        to=notice.email,
        reply_to="",
    )
