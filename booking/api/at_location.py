"""A staff member's unit of work at the location named in the path.

The desk's actions (call, recall, start, complete, no-show, transfer, check-in) all run
the same way, from the JSON API and from the staff pages alike: one retried transaction
that finds the location by its slug and hands it to the use case with the request's time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple, TypeVar

from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation

from booking import queueing
from booking.api.dependencies import ClockDep, SettingsDep, UnitOfWorkDep
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import Context
from booking.auth.guards import CurrentStaff
from booking.auth.principals import Staff
from booking.db import Connection
from booking.db.tickets import QueueLocation

T = TypeVar("T")
LocationWork = Callable[[Connection, Context, QueueLocation], Awaitable[T]]


class AtLocation(NamedTuple):
    uow: UnitOfWork
    ctx: Context
    staff: Staff
    slug: str

    async def run(self, work: LocationWork[T]) -> T:
        async def unit(conn: Connection) -> T:
            return await work(conn, self.ctx, await queueing.location_by_slug(conn, self.slug))

        return await self.uow.run(unit, self.ctx)


def provide_at_location(
    *, uow: UnitOfWorkDep, settings: SettingsDep, clock: ClockDep, staff: CurrentStaff,
    slug: FromPath[str],
) -> AtLocation:  # fmt: skip
    return AtLocation(uow, Context(settings, clock.now()), staff, slug)


# Controllers register it as ``here``.
AtLocationDep = NamedDependency[SkipValidation[AtLocation]]
