"""A location's statistics as charts with their numbers, and its waitlist figures.

The figures are the JSON API's (``booking.statistics``, ``booking.db.waitlist``), so page,
JSON and CSV cannot disagree; the page adds when in the day people wait longest. Charts are
drawn on the server (``booking.pages.charts``), each with a table of its numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from litestar import get
from litestar.params import FromPath
from litestar.response import Template

from booking import statistics
from booking.api.admin_common import find_location
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role
from booking.db import waitlist
from booking.errors import InvalidInput
from booking.i18n import N_
from booking.pages.admin_errors import AdminPages
from booking.pages.admin_forms import AnyRequest, Problems, admin_page, problems_of
from booking.pages.charts import bar_chart
from booking.pages.rendering import language

# The range shown first: the last four weeks and today.
_DEFAULT_DAYS = 29
MESSAGES = {
    "from": N_("Enter the first day as a date."),
    "to": N_("Enter a last day that is not before the first day, at most 366 days later."),
}


def _day(raw: str | None, field: str, problems: Problems) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems[field] = MESSAGES[field]
        return None


def _short(day: date, lang: str) -> str:
    return day.strftime("%d.%m.") if lang == "de" else day.strftime("%d/%m")


class StatisticsPages(AdminPages):
    path = "/locations/{slug:str}/statistics"

    @get("/", guards=[requires(Role.LOCATION_ADMIN, location="slug")])
    async def statistics(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Template:  # fmt: skip
        location = await find_location(db, slug)
        today = clock.now().astimezone(ZoneInfo(location.time_zone)).date()
        params = request.query_params
        problems: Problems = {}
        last = _day(params.get("to"), "to", problems) or today
        first = _day(params.get("from"), "from", problems) or last - timedelta(_DEFAULT_DAYS)
        raw = {"from": params.get("from") or first.isoformat(),
               "to": params.get("to") or last.isoformat()}  # fmt: skip
        context: dict[str, object] = {
            "location": location, "section": "statistics", "values": raw,
            "waitlist": await waitlist.location_figures(db, location.id),
            "waitlist_services": await waitlist.service_figures(db, location.id),
        }  # fmt: skip
        found = None
        if not problems:
            try:
                found = await statistics.location_statistics(
                    db, location.id, location.time_zone, first, last
                )
                hours = await statistics.waiting_by_hour(
                    db, location.id, location.time_zone, first, last
                )
            except InvalidInput as error:
                problems = problems_of(error, MESSAGES)
        if found is None:
            return admin_page(
                request, "admin/statistics.html", staff,
                {**context, "problems": problems, "found": None}, status=422,
            )  # fmt: skip
        lang = language(request)
        bookings = [(_short(d.day, lang), float(d.appointments.booked)) for d in found.days]
        no_shows = [
            (_short(d.day, lang), statistics.no_show_rate(d.appointments)) for d in found.days
        ]
        waits = [(f"{h.hour:02d}", h.waiting_minutes.median) for h in hours]
        return admin_page(
            request, "admin/statistics.html", staff,
            {**context, "problems": {}, "found": found, "hours": hours,
             "no_show_rate": statistics.no_show_rate(found.total.appointments),
             "rates": [statistics.no_show_rate(d.appointments) for d in found.days],
             "charts": {"bookings": bar_chart(bookings), "no_shows": bar_chart(no_shows,
                        percent=True), "waits": bar_chart(waits)},
             "csv": f"/api/v1/admin/locations/{slug}/statistics?from={first}&to={last}"
                    "&format=csv"},
        )  # fmt: skip
