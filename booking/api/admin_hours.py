"""Admin API for opening rules, closures and the slot grid derived from them.

Every change regenerates the location's grid in the same transaction and answers with the
report, so citizens never see a slot on a fresh holiday and the admin sees at once which
booked appointments the change leaves without a desk.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType

from booking import grid
from booking.api.admin_common import (
    GridOut,
    Line,
    find_location,
    given,
    grid_out,
    locked_location,
    regenerate,
)
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.clock import Clock
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.audit import record
from booking.db.catalogue import Closure, NewClosure, NewOpeningRule, OpeningRule
from booking.errors import FieldProblem, InvalidInput, NotFound

WallTime = Annotated[
    str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, local wall time")
]
_WEEKDAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Far more than any real week; keeps one request from building an unbounded grid.
_MAX_RULES = 200


class OpeningRuleIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Without ``valid_from`` a rule has always applied; without ``valid_until`` it never ends."""

    weekday: Annotated[int, Meta(ge=1, le=7, description="ISO weekday, 1 = Monday")]
    opens_at: WallTime
    closes_at: WallTime
    desks: Annotated[int, Meta(ge=0, le=500, description="desks open for appointments")]
    valid_from: date | UnsetType = UNSET
    valid_until: date | UnsetType | None = UNSET


class OpeningRuleOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    weekday: int
    opens_at: str
    closes_at: str
    desks: int
    valid_from: date
    valid_until: date | None


class RuleChange(msgspec.Struct, frozen=True):
    rule: OpeningRuleOut
    grid: GridOut


class WeekChange(msgspec.Struct, frozen=True):
    rules: list[OpeningRuleOut]
    grid: GridOut


class ClosureIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    first_day: date
    last_day: date
    reason_de: Line = ""
    reason_en: Line = ""


class ClosureOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    first_day: date
    last_day: date
    reason_de: str
    reason_en: str


class ClosureChange(msgspec.Struct, frozen=True):
    closure: ClosureOut
    grid: GridOut


class GridChange(msgspec.Struct, frozen=True):
    grid: GridOut


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _rule_out(rule: OpeningRule) -> OpeningRuleOut:
    return OpeningRuleOut(
        id=rule.id,
        weekday=rule.weekday,
        opens_at=_hhmm(rule.opens_at),
        closes_at=_hhmm(rule.closes_at),
        desks=rule.desks,
        valid_from=rule.valid_from,
        valid_until=rule.valid_until,
    )


def _closure_out(closure: Closure) -> ClosureOut:
    return msgspec.convert(closure, ClosureOut, from_attributes=True)


def _new_rule(data: OpeningRuleIn, where: str = "") -> NewOpeningRule:
    """The rule to store, or a 422 naming the field (``where`` locates it in a list)."""
    fields = given(data)
    fields["opens_at"] = time.fromisoformat(data.opens_at)
    fields["closes_at"] = time.fromisoformat(data.closes_at)
    rule = NewOpeningRule(**fields)
    if rule.closes_at <= rule.opens_at:
        raise InvalidInput.field(f"{where}closes_at", "must be later than opens_at")
    if rule.valid_until is not None and rule.valid_until < rule.valid_from:
        raise InvalidInput.field(f"{where}valid_until", "must not be before valid_from")
    return rule


def _overlap(a: NewOpeningRule, b: NewOpeningRule) -> bool:
    """Two windows the same day both count desks; the week must say how many, not add up."""
    return (
        a.weekday == b.weekday
        and a.opens_at < b.closes_at
        and b.opens_at < a.closes_at
        and (b.valid_until is None or a.valid_from <= b.valid_until)
        and (a.valid_until is None or b.valid_from <= a.valid_until)
    )


def _describe(rule: NewOpeningRule) -> str:
    until = "open-ended" if rule.valid_until is None else f"until {rule.valid_until}"
    return (
        f"{_WEEKDAYS[rule.weekday]} {_hhmm(rule.opens_at)}-{_hhmm(rule.closes_at)}"
        f" (from {rule.valid_from}, {until})"
    )


def _check_no_overlap(
    new: Sequence[NewOpeningRule], existing: Sequence[NewOpeningRule], where: Sequence[str]
) -> None:
    """Each of ``new`` against ``existing`` and against the ``new`` rules before it."""
    for index, rule in enumerate(new):
        for other in [*existing, *new[:index]]:
            if _overlap(rule, other):
                message = (
                    f"overlaps {_describe(other)}; windows of one weekday must not overlap"
                    " while both are valid"
                )
                field = f"{where[index]}opens_at"
                raise InvalidInput(f"{_describe(rule)} {message}.", [FieldProblem(field, message)])


async def replace_week(
    db: Connection, clock: Clock, staff: Staff, slug: str, data: Sequence[OpeningRuleIn]
) -> WeekChange:
    """Shared by the API and the admin pages, so both check and record a week alike."""
    if len(data) > _MAX_RULES:
        raise InvalidInput.field("body", f"at most {_MAX_RULES} rules")
    where = [f"[{index}]." for index in range(len(data))]
    rules = [_new_rule(item, prefix) for item, prefix in zip(data, where, strict=True)]
    _check_no_overlap(rules, [], where)
    location = await locked_location(db, slug)
    await q.delete_opening_rules(db, location.id)
    stored = await q.insert_opening_rules(db, location.id, rules)
    await record(
        db, staff.actor, "opening_rule.replace", "location", location.id, location.id,
        {"rules": len(stored)},
    )  # fmt: skip
    report = await regenerate(db, location, clock)
    ordered = sorted(stored, key=lambda r: (r.weekday, r.opens_at, r.valid_from, r.id))
    return WeekChange([_rule_out(rule) for rule in ordered], report)


async def add_closure(
    db: Connection, clock: Clock, staff: Staff, slug: str, data: ClosureIn
) -> ClosureChange:
    if data.last_day < data.first_day:
        raise InvalidInput.field("last_day", "must not be before first_day")
    location = await locked_location(db, slug)
    closure = NewClosure(data.first_day, data.last_day, data.reason_de, data.reason_en)
    [stored] = await q.insert_closures(db, location.id, [closure])
    await record(db, staff.actor, "closure.create", "closure", stored.id, location.id)
    return ClosureChange(_closure_out(stored), await regenerate(db, location, clock))


async def remove_closure(
    db: Connection, clock: Clock, staff: Staff, slug: str, closure_id: int
) -> GridChange:
    location = await locked_location(db, slug)
    if not await q.delete_closure(db, location.id, closure_id):
        raise NotFound("This location has no closure with that id.")
    await record(db, staff.actor, "closure.delete", "closure", closure_id, location.id)
    return GridChange(await regenerate(db, location, clock))


class OpeningRuleController(Controller):
    path = "/locations/{slug:str}/opening-rules"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def list_rules(self, db: Transaction, slug: FromPath[str]) -> list[OpeningRuleOut]:
        location = await find_location(db, slug)
        return [_rule_out(rule) for rule in await q.opening_rules(db, location.id)]

    @post()
    async def add_rule(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        data: JSONBody[OpeningRuleIn],
    ) -> RuleChange:  # fmt: skip
        rule = _new_rule(data)
        location = await locked_location(db, slug)
        _check_no_overlap([rule], await q.opening_rules(db, location.id), [""])
        [stored] = await q.insert_opening_rules(db, location.id, [rule])
        await record(db, staff.actor, "opening_rule.create", "opening_rule", stored.id, location.id)
        return RuleChange(_rule_out(stored), await regenerate(db, location, clock))

    @put()
    async def replace_week(
        self,
        db: Transaction,
        clock: ClockDep,
        staff: CurrentStaff,
        slug: FromPath[str],
        data: JSONBody[list[OpeningRuleIn]],
    ) -> WeekChange:
        """The whole set of rules at once, so a new week never passes through a mixed state."""
        return await replace_week(db, clock, staff, slug, data)

    @delete("/{rule_id:int}", status_code=200)
    async def remove_rule(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        rule_id: FromPath[int],
    ) -> GridChange:  # fmt: skip
        location = await locked_location(db, slug)
        if not await q.delete_opening_rule(db, location.id, rule_id):
            raise NotFound("This location has no opening rule with that id.")
        await record(db, staff.actor, "opening_rule.delete", "opening_rule", rule_id, location.id)
        return GridChange(await regenerate(db, location, clock))


class ClosureController(Controller):
    path = "/locations/{slug:str}/closures"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def list_closures(self, db: Transaction, slug: FromPath[str]) -> list[ClosureOut]:
        location = await find_location(db, slug)
        return [_closure_out(closure) for closure in await q.closures(db, location.id)]

    @post()
    async def add_closure(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        data: JSONBody[ClosureIn],
    ) -> ClosureChange:  # fmt: skip
        return await add_closure(db, clock, staff, slug, data)

    @delete("/{closure_id:int}", status_code=200)
    async def remove_closure(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        closure_id: FromPath[int],
    ) -> GridChange:  # fmt: skip
        return await remove_closure(db, clock, staff, slug, closure_id)


class GridController(Controller):
    path = "/locations/{slug:str}/grid"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @post(status_code=200)
    async def regenerate_grid(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str]
    ) -> GridOut:
        """Rarely needed by hand: every change of hours regenerates already."""
        location = await locked_location(db, slug)
        await record(db, staff.actor, "grid.regenerate", "location", location.id, location.id)
        return await regenerate(db, location, clock)

    @get("/conflicts")
    async def conflicts(self, db: Transaction, clock: ClockDep, slug: FromPath[str]) -> GridOut:
        location = await find_location(db, slug)
        return grid_out(await grid.grid_conflicts(db, location.id, clock.now()))
