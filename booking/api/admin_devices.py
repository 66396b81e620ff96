"""Admin API for a location's kiosks and display boards: register, list, revoke.

Registering answers with the device token once; the server keeps only its hash. A revoked
device keeps its row (the audit log refers to it) and its token stops working at once.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from booking.api.admin_common import Name, find_location
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import DeviceKind, Role, Staff
from booking.auth.tokens import register_device, revoke_device
from booking.clock import Clock
from booking.db import Connection
from booking.db import devices as q
from booking.db.devices import Device
from booking.errors import NotFound


class DeviceIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``kiosk`` issues tickets and checks in appointments; ``display`` shows the calls."""

    kind: DeviceKind
    name: Name


class DeviceOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class RegisteredDeviceOut(DeviceOut, frozen=True, kw_only=True):
    """``token`` is shown this once: enter it on the device as its bearer token."""

    token: str


def _out(device: Device) -> DeviceOut:
    return msgspec.convert(device, DeviceOut, from_attributes=True)


async def register(db: Connection, staff: Staff, slug: str, data: DeviceIn) -> tuple[Device, str]:
    """Shared by the API and the admin pages: the device and its token, shown this once."""
    location = await find_location(db, slug)
    return await register_device(db, staff.actor, location.id, data.kind.value, data.name)


async def revoke(db: Connection, clock: Clock, staff: Staff, slug: str, device_id: int) -> None:
    location = await find_location(db, slug)
    if await revoke_device(db, staff.actor, location.id, device_id, clock.now()) is None:
        raise NotFound("This location has no device with that id.")


class DeviceController(Controller):
    path = "/locations/{slug:str}/devices"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def list_devices(self, db: Transaction, slug: FromPath[str]) -> list[DeviceOut]:
        location = await find_location(db, slug)
        return [_out(device) for device in await q.devices_at(db, location.id)]

    @post()
    async def register(
        self, db: Transaction, staff: CurrentStaff, slug: FromPath[str], data: JSONBody[DeviceIn]
    ) -> RegisteredDeviceOut:
        device, token = await register(db, staff, slug, data)
        return RegisteredDeviceOut(**msgspec.structs.asdict(_out(device)), token=token)

    @delete("/{device_id:int}")
    async def revoke(
        self,
        db: Transaction,
        clock: ClockDep,
        staff: CurrentStaff,
        slug: FromPath[str],
        device_id: FromPath[int],
    ) -> None:
        await revoke(db, clock, staff, slug, device_id)
