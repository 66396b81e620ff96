"""A location's weekly opening hours and closures, through the API's own use cases.

The week is saved whole (``replace_week``, the API's PUT), so it never passes through a mixed
state; saving and every closure change regenerate the grid in the same transaction, and the
page shows the booked appointments the rules no longer cover, as the API reports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import grid
from booking.api import admin_hours as api
from booking.api.admin_common import find_location
from booking.api.admin_hours import ClosureIn, OpeningRuleIn
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.clock import Clock
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.catalogue import OpeningRule
from booking.errors import BookingError
from booking.i18n import N_
from booking.pages.admin_errors import AdminPages
from booking.pages.admin_forms import (
    AnyRequest,
    Problems,
    admin_page,
    attempt,
    converted,
    done,
    present,
    problems_of,
    status_message,
    text_fields,
)

RULE_FIELDS = ("weekday", "opens_at", "closes_at", "desks", "valid_from", "valid_until")
CLOSURE_FIELDS = ("first_day", "last_day", "reason_de", "reason_en")
# The schema's "always" for a rule without a start date: shown as an empty field.
_ALWAYS = date(2000, 1, 1)
Row = dict[str, str]

DONE = {
    "hours": N_("The opening hours are saved. Free times follow them from now on."),
    "closure-added": N_("The closure is added. No appointments can be booked on these days."),
    "closure-removed": N_("The closure is removed."),
}
RULE_MESSAGES = {
    "weekday": N_("Choose a weekday."),
    "opens_at": N_("Enter the opening time as hours and minutes, like 08:00."),
    "closes_at": N_("Enter a closing time later than the opening time, like 12:30."),
    "desks": N_("Enter the number of desks for appointments, from 0 to 500."),
    "valid_from": N_("Enter the first day as a date, or leave it empty."),
    "valid_until": N_("Enter a last day that is not before the first day, or leave it empty."),
    "body": N_("A week can have at most 200 time windows."),
}
OVERLAP = N_("This window overlaps another window of the same weekday.")
CLOSURE_MESSAGES = {
    "first_day": N_("Enter the first closed day as a date."),
    "last_day": N_("Enter a last closed day that is not before the first day."),
    "reason_de": N_("The reason can be at most 200 characters long, on one line."),
    "reason_en": N_("The reason can be at most 200 characters long, on one line."),
}


def _rule_row(rule: OpeningRule) -> Row:
    return {
        "weekday": str(rule.weekday),
        "opens_at": rule.opens_at.strftime("%H:%M"),
        "closes_at": rule.closes_at.strftime("%H:%M"),
        "desks": str(rule.desks),
        "valid_from": "" if rule.valid_from == _ALWAYS else rule.valid_from.isoformat(),
        "valid_until": "" if rule.valid_until is None else rule.valid_until.isoformat(),
    }


def _blank(row: Row) -> bool:
    return not any(value for name, value in row.items() if name != "weekday")


def _week(rows: list[Row]) -> list[tuple[int, list[tuple[str, Row]]]]:
    """Per weekday (1 = Monday) its windows, each with the id its fields are named by: ``w{k}``
    for the k-th window sent (as the API counts them), and an empty row ``new{weekday}`` to add
    one; without JavaScript that is one new window per day and save."""
    windows = [row for row in rows if not _blank(row)]
    days: list[tuple[int, list[tuple[str, Row]]]] = []
    for weekday in range(1, 8):
        mine = [(f"w{k}", row) for k, row in enumerate(windows) if row["weekday"] == str(weekday)]
        empty = dict.fromkeys(RULE_FIELDS, "") | {"weekday": str(weekday)}
        days.append((weekday, [*mine, (f"new{weekday}", empty)]))
    return days


def _sent_rows(form: Mapping[str, Any]) -> list[Row]:
    getall = form.getall  # type: ignore[attr-defined]
    columns = [[str(value).strip() for value in getall(name, [])] for name in RULE_FIELDS]
    if len({len(column) for column in columns}) > 1:
        return []  # not this page's form; the API's checks then name the problem
    return [dict(zip(RULE_FIELDS, values, strict=True)) for values in zip(*columns, strict=True)]


def _row_problems(error: BookingError) -> Problems:
    """The API's ``[k].field`` (k counts the windows sent) as the form's ``w{k}-field``."""
    found: Problems = {}
    for field, message in problems_of(error, RULE_MESSAGES).items():
        head, _, name = field.partition(".")
        if head.startswith("[") and name:
            found[f"w{head.strip('[]')}-{name}"] = (
                OVERLAP if "overlaps" in error.message else message
            )
        else:
            found[field] = message
    return found


async def _hours_page(
    request: AnyRequest, db: Connection, clock: Clock, staff: Staff, slug: str, *,
    rows: list[Row] | None = None, problems: Problems | None = None,
) -> Template:  # fmt: skip
    location = await find_location(db, slug)
    if rows is None:
        rows = [_rule_row(rule) for rule in await q.opening_rules(db, location.id)]
    conflicts = await grid.grid_conflicts(db, location.id, clock.now())
    return admin_page(
        request, "admin/hours.html", staff,
        {"location": location, "section": "hours", "days": _week(rows),
         "problems": problems or {}, "conflicts": conflicts,
         "done": None if problems else status_message(request, DONE)},
        status=422 if problems else 200,
    )  # fmt: skip


async def _closures_page(
    request: AnyRequest, db: Connection, staff: Staff, slug: str, *,
    values: Row | None = None, problems: Problems | None = None,
) -> Template:  # fmt: skip
    location = await find_location(db, slug)
    return admin_page(
        request, "admin/closures.html", staff,
        {"location": location, "section": "closures",
         "closures": await q.closures(db, location.id),
         "values": values or dict.fromkeys(CLOSURE_FIELDS, ""), "problems": problems or {},
         "done": None if problems else status_message(request, DONE)},
        status=422 if problems else 200,
    )  # fmt: skip


_LOCATION_ADMIN = [requires(Role.LOCATION_ADMIN, location="slug")]


class HoursPages(AdminPages):
    path = "/locations/{slug:str}"

    @get("/hours", guards=_LOCATION_ADMIN)
    async def hours(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Template:  # fmt: skip
        return await _hours_page(request, db, clock, staff, slug)

    @post("/hours", guards=_LOCATION_ADMIN)
    async def save_hours(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        rows = _sent_rows(await request.form())
        try:
            week = converted(list[OpeningRuleIn], [present(row) for row in rows if not _blank(row)])
            await attempt(db, lambda: api.replace_week(db, clock, staff, slug, week))
        except BookingError as error:
            if error.status != 422:
                raise
            problems = _row_problems(error)
            return await _hours_page(request, db, clock, staff, slug, rows=rows, problems=problems)
        return done(f"/admin/locations/{slug}/hours", "hours")

    @get("/closures", guards=_LOCATION_ADMIN)
    async def closures(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        return await _closures_page(request, db, staff, slug)

    @post("/closures", guards=_LOCATION_ADMIN)
    async def add_closure(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        values = text_fields(await request.form(), CLOSURE_FIELDS)
        sent = {**values, "first_day": values["first_day"] or None}
        try:
            data = converted(ClosureIn, {**sent, "last_day": values["last_day"] or None})
            await attempt(db, lambda: api.add_closure(db, clock, staff, slug, data))
        except BookingError as error:
            if error.status != 422:
                raise
            problems = problems_of(error, CLOSURE_MESSAGES)
            return await _closures_page(request, db, staff, slug, values=values, problems=problems)
        return done(f"/admin/locations/{slug}/closures", "closure-added")

    @post("/closures/{closure_id:int}/delete", guards=_LOCATION_ADMIN)
    async def remove_closure(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        closure_id: FromPath[int],
    ) -> Redirect:  # fmt: skip
        await api.remove_closure(db, clock, staff, slug, closure_id)
        return done(f"/admin/locations/{slug}/closures", "closure-removed")
