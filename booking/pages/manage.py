"""The pages behind the links in the emails: booked, manage, cancel, reschedule, confirm.

Mail scanners open every link, so each GET only shows; the change is a POST from the
page's button, carrying the token in a form field. The use cases are the JSON API's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
import segno
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import appointments as uc
from booking import tokens
from booking.api.appointments import Code
from booking.api.dependencies import ClockDep, LimiterDep, SettingsDep, UnitOfWorkDep
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import ACTIVE, Booking, Context
from booking.db import Connection
from booking.db import appointments as q
from booking.db.appointments import BookedService
from booking.db.offers import SetLocation
from booking.errors import Conflict
from booking.i18n import N_, Language
from booking.pages import forms
from booking.pages.link_secret import MailLink, MailLinkDep, mail_link
from booking.pages.month import TimeChoice, time_choice
from booking.pages.rendering import Params, page, url

AnyRequest = Request[Any, Any, Any]


class CalendarLinks(msgspec.Struct, frozen=True):
    ics: str
    google: str
    outlook: str


class AppointmentView(msgspec.Struct, frozen=True, kw_only=True):
    """One appointment as the pages show it, in the office's local time."""

    code: str
    status: str
    location: SetLocation
    services: list[BookedService]
    start: datetime
    end: datetime
    pending_until: datetime | None
    documents: list[str]
    # Cancel and reschedule are offered until the office's deadline.
    change_until: datetime
    changeable: bool
    token: str
    qr: str
    calendar: CalendarLinks

    def link(self, suffix: str = "", extra: Params = ()) -> str:
        return url(f"/termin/{self.code}{suffix}", [("token", self.token), *extra])


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC"))


def _calendar_links(booking: Booking, lang: Language) -> CalendarLinks:
    """The .ics download, and the two web calendars people use most (opened by the citizen)."""
    a, location = booking.appointment, booking.location
    names = ", ".join(s.name_de if lang == "de" else s.name_en for s in booking.services)
    office = location.name_de if lang == "de" else location.name_en
    title = f"{'Termin' if lang == 'de' else 'Appointment'}: {names}"
    place = f"{office}, {location.street}, {location.postal_code} {location.city}"
    note = f"{'Buchungscode' if lang == 'de' else 'Booking code'}: {a.code}"
    compact = "%Y%m%dT%H%M%SZ"
    google = urlencode({
        "action": "TEMPLATE", "text": title, "location": place, "details": note,
        "dates": f"{_utc(a.starts_at):{compact}}/{_utc(a.ends_at):{compact}}",
    })  # fmt: skip
    outlook = urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": title,
        "location": place, "body": note, "startdt": _utc(a.starts_at).isoformat(),
        "enddt": _utc(a.ends_at).isoformat(),
    })  # fmt: skip
    return CalendarLinks(
        ics=url(f"/api/v1/appointments/{a.code}/calendar.ics", [("token", booking.manage_token)]),
        google=f"https://calendar.google.com/calendar/render?{google}",
        outlook=f"https://outlook.live.com/calendar/0/deeplink/compose?{outlook}",
    )


def qr_data_uri(code: str) -> str:
    # A full QR code with medium error correction, as in the mail: kiosk scanners read both.
    return str(segno.make_qr(code, error="m").svg_data_uri(scale=6, border=4))


async def appointment_view(
    conn: Connection, ctx: Context, booking: Booking, lang: Language
) -> AppointmentView:
    a, location = booking.appointment, booking.location
    zone = ZoneInfo(location.time_zone)
    change_until = a.starts_at - timedelta(minutes=location.cancel_deadline_minutes)
    return AppointmentView(
        code=a.code,
        status=a.status,
        location=location,
        services=booking.services,
        start=a.starts_at.astimezone(zone),
        end=a.ends_at.astimezone(zone),
        pending_until=a.pending_until.astimezone(zone) if a.pending_until else None,
        documents=await q.documents_to_bring(conn, a.id, lang),
        change_until=change_until.astimezone(zone),
        changeable=a.status in ACTIVE and ctx.now <= change_until,
        token=booking.manage_token,
        qr=qr_data_uri(a.code),
        calendar=_calendar_links(booking, lang),
    )


async def provide_link(
    *, request: AnyRequest, code: FromPath[Code], settings: SettingsDep, clock: ClockDep,
    limiter: LimiterDep,
) -> MailLink:  # fmt: skip
    """The link of an appointment: its code, as the kiosk and the mails write it."""
    return await mail_link(request, tokens.normalise_code(code), settings, clock.now(), limiter)


async def _read(
    uow: UnitOfWork, link: MailLink, purpose: tokens.Purpose = "manage"
) -> AppointmentView:
    async def work(conn: Connection) -> AppointmentView:
        booking = await uc.read(conn, link.ctx, link.key, link.secret, purpose=purpose)
        return await appointment_view(conn, link.ctx, booking, link.lang)

    return await uow.run(work, link.ctx)


class ManagePages(Controller):
    path = "/termin"
    include_in_schema = False
    dependencies = {"link": Provide(provide_link)}  # noqa: RUF012

    @get("/{code:str}")
    async def manage(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        view = await _read(uow, link)
        moved = request.query_params.get("geaendert") == "1"
        return page(request, "citizen/manage.html", {"a": view, "moved": moved})

    @get("/{code:str}/gebucht")
    async def booked(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        """Where booking and confirming lead: the code, its QR code and the calendar links."""
        return page(request, "citizen/booked.html", {"a": await _read(uow, link)})

    @get("/{code:str}/absagen")
    async def cancel_page(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        return page(request, "citizen/cancel.html", {"a": await _read(uow, link)})

    @post("/{code:str}/absagen")
    async def cancel(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template | Redirect:  # fmt: skip
        try:
            booking = await uow.run(
                lambda conn: uc.cancel(conn, link.ctx, link.key, link.secret), link.ctx
            )
        except Conflict as exc:
            view = await _read(uow, link)
            return page(
                request, "citizen/cancel.html", {"a": view, "problem": _refusal(exc)},
                status=exc.status, switch=(f"/termin/{view.code}/absagen", [("token", view.token)]),
            )  # fmt: skip
        target = url(f"/termin/{booking.appointment.code}", [("token", link.secret)])
        return Redirect(target, status_code=303)

    @get("/{code:str}/verschieben")
    async def reschedule_page(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        params = request.query_params
        view, choice = await _reschedule_choice(
            uow, link, forms.optional_month(params), forms.optional_date(params, "day")
        )
        return _reschedule(request, view, choice, forms.optional_start(params))

    @post("/{code:str}/verschieben")
    async def reschedule(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template | Redirect:  # fmt: skip
        start = forms.optional_start(await request.form())
        problem, status = N_("Choose a time."), 422
        if start is not None:
            try:
                booking = await uow.run(
                    lambda conn: uc.reschedule(conn, link.ctx, link.key, link.secret, start),
                    link.ctx,
                )
            except Conflict as exc:
                problem, status = _refusal(exc), exc.status
            else:
                target = [("token", link.secret), ("geaendert", "1")]
                return Redirect(url(f"/termin/{booking.appointment.code}", target), status_code=303)
        day = start.date() if start else None
        view, choice = await _reschedule_choice(uow, link, None, day)
        return _reschedule(request, view, choice, None, problem=problem, status=status)

    @get("/{code:str}/bestaetigen")
    async def confirm_page(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        """Double opt-in: this page shows; only its button confirms."""
        view = await _read(uow, link, "confirm")
        return page(request, "citizen/confirm.html", {"a": view, "token": link.secret})

    @post("/{code:str}/bestaetigen")
    async def confirm(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template | Redirect:  # fmt: skip
        try:
            booking = await uow.run(
                lambda conn: uc.confirm(conn, link.ctx, link.key, link.secret), link.ctx
            )
        except Conflict as exc:
            view = await _read(uow, link, "confirm")
            return page(
                request, "citizen/confirm.html",
                {"a": view, "token": link.secret, "problem": _refusal(exc)}, status=exc.status,
                switch=(f"/termin/{view.code}/bestaetigen", [("token", link.secret)]),
            )  # fmt: skip
        code = booking.appointment.code
        target = url(f"/termin/{code}/gebucht", [("token", booking.manage_token)])
        return Redirect(target, status_code=303)


def _refusal(exc: Conflict) -> str:
    """Why the use case said no, as a message for people (an English msgid)."""
    if isinstance(exc, uc.DeadlinePassed):
        return N_("It is too late to change this appointment online. Please call the office.")
    if isinstance(exc, uc.WrongState):
        return N_("This appointment can no longer be changed or confirmed.")
    return N_("Sorry, this time has just been taken. Choose another one.")


async def _reschedule_choice(
    uow: UnitOfWork, link: MailLink, month: date | None, day: date | None
) -> tuple[AppointmentView, TimeChoice]:
    async def work(conn: Connection) -> tuple[AppointmentView, TimeChoice]:
        booking = await uc.read(conn, link.ctx, link.key, link.secret)
        view = await appointment_view(conn, link.ctx, booking, link.lang)
        services = [s.slug for s in booking.services for _ in range(s.quantity)]
        # First the other free times of the appointment's own day.
        near = view.start.date() if month is None and day is None else day
        choice = await time_choice(
            conn, link.ctx.now, location_slug=booking.location.slug, services=services,
            month=month, day=near, exclude=view.start,
        )  # fmt: skip
        return view, choice

    return await uow.run(work, link.ctx)


def _reschedule(
    request: AnyRequest,
    view: AppointmentView,
    choice: TimeChoice,
    chosen: datetime | None,
    *,
    problem: str | None = None,
    status: int = 200,
) -> Template:
    if chosen not in choice.starts:
        chosen = choice.starts[0] if choice.starts else None
    base = [("token", view.token)]
    return page(
        request,
        "citizen/reschedule.html",
        {"a": view, "choice": choice, "chosen": chosen, "base": base, "problem": problem},
        status=status,
        switch=(f"/termin/{view.code}/verschieben", base),
    )
