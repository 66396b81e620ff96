"""Admin API for a location's desks and the services each serves.

A desk gets only tickets of the services it serves; a service no active desk serves is not
offered at the kiosk. Desks are deactivated, not deleted: tickets and calls refer to them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType

from booking import queueing
from booking.api.admin_common import Name, given
from booking.api.appointments import Slug
from booking.api.dependencies import Transaction
from booking.api.staff_queue import DeskOut, desk_out
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role

DeskServices = Annotated[list[Slug], Meta(max_length=100)]


class DeskIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    services: DeskServices


class DeskPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    services: DeskServices | UnsetType = UNSET


class DeskController(Controller):
    path = "/locations/{slug:str}/desks"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def list_desks(self, db: Transaction, slug: FromPath[str]) -> list[DeskOut]:
        location = await queueing.location_by_slug(db, slug)
        return [desk_out(desk) for desk in await queueing.desks(db, location)]

    @post()
    async def create(
        self, db: Transaction, staff: CurrentStaff, slug: FromPath[str], data: JSONBody[DeskIn]
    ) -> DeskOut:
        location = await queueing.location_by_slug(db, slug)
        return desk_out(
            await queueing.create_desk(db, staff.actor, location, data.name, data.services)
        )

    @patch("/{desk_id:int}")
    async def change(
        self, *, db: Transaction, staff: CurrentStaff, slug: FromPath[str],
        desk_id: FromPath[int], data: JSONBody[DeskPatch],
    ) -> DeskOut:  # fmt: skip
        """Rename, (de)activate, or replace the services; a deactivated desk is left."""
        location = await queueing.location_by_slug(db, slug)
        return desk_out(await queueing.change_desk(db, staff.actor, location, desk_id, given(data)))
