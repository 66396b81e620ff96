"""The waitlist's join form: what it carries, checked for people before the use case runs.

The values stay as typed (text), so a form with problems comes back as it was sent; the
rules are the API's (``booking.api.waitlist.WaitlistIn``, ``booking.waitlist``), only the
messages are the page's, English msgids translated where they are shown.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import msgspec

from booking import search
from booking import waitlist as uc
from booking.api.appointments import Email, Slug
from booking.errors import InvalidInput
from booking.i18n import N_, Language
from booking.pages.forms import Fields
from booking.waitlist import JoinRequest

WORKDAYS = (1, 2, 3, 4, 5)
# The latest day offered when the form opens: four weeks is what most people can plan.
DEFAULT_WEEKS = 4
_ISO_WEEKDAYS = frozenset("1234567")


class WishesForm(msgspec.Struct, frozen=True, kw_only=True):
    services: list[str]
    locations: list[str]
    earliest: str
    latest: str
    weekdays: list[int]
    time_from: str
    time_until: str
    email: str

    def service_params(self) -> list[tuple[str, str]]:
        return [("service", s) for s in self.services]


def _slugs(fields: Fields, name: str) -> list[str]:
    found = [str(v) for v in fields.getall(name, [])]
    return list(dict.fromkeys(s for s in found if _valid(s, Slug)))[:20]


def _weekdays(fields: Fields) -> list[int]:
    return sorted({int(v) for v in fields.getall("weekday", []) if str(v) in _ISO_WEEKDAYS})


def blank(services: list[str], locations: list[str], today: date) -> WishesForm:
    """The form as it opens: from today, four weeks, working days, any time of day."""
    return WishesForm(
        services=services,
        locations=locations,
        earliest=today.isoformat(),
        latest=(today + timedelta(weeks=DEFAULT_WEEKS)).isoformat(),
        weekdays=list(WORKDAYS),
        time_from="",
        time_until="",
        email="",
    )


def read(fields: Fields) -> WishesForm:
    def text(name: str, limit: int = 40) -> str:
        return str(fields.get(name, "")).strip()[:limit]

    return WishesForm(
        services=_slugs(fields, "service"),
        locations=_slugs(fields, "location"),
        earliest=text("from"),
        latest=text("to"),
        weekdays=_weekdays(fields),
        time_from=text("time_from"),
        time_until=text("time_until"),
        email=text("email", 500),
    )


def problems(form: WishesForm, today: date) -> dict[str, str]:
    """Element id -> message (an English msgid), in the order of the form."""
    return {
        **_choice_problems(form),
        **_day_problems(form, today),
        **_time_problems(form),
        **_email_problems(form),
    }


def _choice_problems(form: WishesForm) -> dict[str, str]:
    found: dict[str, str] = {}
    if not form.services:
        found["services"] = N_("Choose at least one service.")
    elif len(form.services) > search.MAX_SERVICES:
        found["services"] = N_("Choose at most 5 services for one appointment.")
    if not form.locations:
        found["locations"] = N_("Choose at least one office.")
    elif len(form.locations) > uc.MAX_LOCATIONS:
        found["locations"] = N_("Choose at most 10 offices.")
    return found


def _day_problems(form: WishesForm, today: date) -> dict[str, str]:
    found: dict[str, str] = {}
    earliest, latest = _date(form.earliest), _date(form.latest)
    if earliest is None:
        found["from"] = N_("Enter the first day you could come, like 2026-12-01.")
    if latest is None:
        found["to"] = N_("Enter the last day you could come, like 2026-12-24.")
    elif latest < today:
        found["to"] = N_("The last day must not be in the past.")
    elif earliest is not None and latest < earliest:
        found["to"] = N_("The last day must not be before the first day.")
    elif earliest is not None and (latest - max(earliest, today)).days + 1 > search.MAX_RANGE_DAYS:
        found["to"] = N_("Choose at most 93 days from the first day.")
    if not form.weekdays:
        found["weekdays"] = N_("Choose at least one weekday.")
    return found


def _time_problems(form: WishesForm) -> dict[str, str]:
    found: dict[str, str] = {}
    start, end = _time(form.time_from), _time(form.time_until)
    if form.time_from and start is None:
        found["time_from"] = N_("Enter a time, like 09:30.")
    if form.time_until and end is None:
        found["time_until"] = N_("Enter a time, like 09:30.")
    elif start is not None and end is not None and end <= start:
        found["time_until"] = N_("The end of the time of day must be later than its start.")
    return found


def _email_problems(form: WishesForm) -> dict[str, str]:
    if not form.email:
        return {"email": N_("Enter your email address.")}
    if not _valid(form.email, Email):
        return {"email": N_("Enter an email address in the correct format, like name@example.org.")}
    return {}


def join_request(form: WishesForm, language: Language) -> JoinRequest:
    """The use case's request from a form without problems."""
    earliest, latest = _date(form.earliest), _date(form.latest)
    assert earliest is not None
    assert latest is not None
    return JoinRequest(
        services=form.services,
        locations=form.locations,
        earliest_day=earliest,
        latest_day=latest,
        weekdays=form.weekdays,
        time_from=_time(form.time_from),
        time_until=_time(form.time_until),
        email=form.email,
        name=None,
        language=language,
    )


def refused_field(exc: InvalidInput) -> dict[str, str]:
    """What the use case refused that the form's own checks cannot know (offices, dates)."""
    field = exc.details[0].field if exc.details else ""
    if field == "locations":
        return {"locations": N_("Not every office you chose offers all of these services online.")}
    if field == "from":
        return {"from": N_("The first day must be within a year from today.")}
    if field == "time_until":
        return {"time_until": N_("The end of the time of day must be later than its start.")}
    return {"to": N_("Check the days you could come.")}


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _time(raw: str) -> time | None:
    try:
        found = time.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    # Wall time at the office: a time zone would mean nothing here.
    return found.replace(second=0, microsecond=0) if found and found.tzinfo is None else None


def _valid(value: str, kind: Any) -> bool:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True
