"""Route guards: a route says in one line who may call it, and nothing runs before it is so.

Staff routes::

    @get("/locations/{slug:str}/queue", guards=[requires(Role.DESK, location="slug")])
    async def queue(self, staff: CurrentStaff, ...) -> ...

``requires(role, location=param)`` lets through signed-in staff whose role includes
``role`` (admin > location_admin > desk) and, with ``location``, who work at the location
whose slug is that path parameter (admins work everywhere). The staff routers carry
``staff_area(role)``: routes that declare nothing need that role, so a forgotten
declaration fails closed. Without credentials a guard answers 401, with the wrong role or
location 403.

Device routes::

    @post("/tickets", guards=[requires_device(DeviceKind.KIOSK)])
    async def issue(self, device: CurrentDevice, ...) -> ...

The device acts only for ``device.location_id``; with ``location="slug"`` the path's
location must be the device's own.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import SkipValidation

from booking.auth.authenticate import Connection, current_device, current_staff
from booking.auth.principals import DeviceKind, Role, Staff
from booking.db.devices import Device
from booking.errors import Forbidden


class RoleRequired(Forbidden):
    code = "role_required"


class WrongLocation(Forbidden):
    code = "wrong_location"


class WrongDevice(Forbidden):
    code = "wrong_device"


class Requirement(msgspec.Struct, frozen=True):
    """What a staff route needs: at least ``role``, at the location in path param ``location``."""

    role: Role
    location: str | None = None


class StaffGuard:
    def __init__(self, requirement: Requirement, *, fallback: bool) -> None:
        self.requirement = requirement
        # A fallback applies only to routes that declare no requirement of their own.
        self.fallback = fallback

    async def __call__(self, connection: Connection, handler: BaseRouteHandler) -> None:
        if self.fallback and _declared(handler):
            return
        _check(await current_staff(connection), self.requirement, connection.path_params)


def requires(role: Role, *, location: str | None = None) -> StaffGuard:
    return StaffGuard(Requirement(role, location), fallback=False)


def staff_area(default: Role) -> StaffGuard:
    """For a router: everything under it needs staff, and ``default`` where nothing is declared."""
    return StaffGuard(Requirement(default), fallback=True)


def _check(staff: Staff, requirement: Requirement, path_params: dict[str, Any]) -> None:
    if not staff.role.includes(requirement.role):
        raise RoleRequired(f"This needs the role {requirement.role.value}.")
    if requirement.location is not None:
        slug = path_params.get(requirement.location)
        if not isinstance(slug, str) or not staff.works_at(slug):
            raise WrongLocation("You do not work at this location.")


def _guards(handler: BaseRouteHandler) -> list[StaffGuard]:
    return [
        guard
        for layer in handler.ownership_layers
        for guard in layer.guards or ()
        if isinstance(guard, StaffGuard)
    ]


def _declared(handler: BaseRouteHandler) -> bool:
    return any(not guard.fallback for guard in _guards(handler))


def requirements(handler: BaseRouteHandler) -> list[Requirement]:
    """What the guards of ``handler`` enforce, all together (empty: not a staff route)."""
    guards = _guards(handler)
    declared = [guard.requirement for guard in guards if not guard.fallback]
    return declared or [guard.requirement for guard in guards]


class DeviceGuard:
    def __init__(self, kind: DeviceKind, location: str | None) -> None:
        self.kind = kind
        self.location = location

    async def __call__(self, connection: Connection, handler: BaseRouteHandler) -> None:
        device = await current_device(connection)
        if device.kind != self.kind:
            raise WrongDevice(f"This needs a {self.kind.value} device, not a {device.kind}.")
        if self.location is not None and (
            connection.path_params.get(self.location) != device.location_slug
        ):
            raise WrongLocation("This device belongs to another location.")


def requires_device(kind: DeviceKind, *, location: str | None = None) -> DeviceGuard:
    return DeviceGuard(kind, location)


async def provide_staff(request: Request[Any, Any, Any]) -> Staff:
    return await current_staff(request)


async def provide_device(request: Request[Any, Any, Any]) -> Device:
    return await current_device(request)


# Handler parameters named ``staff`` and ``device``; the app registers the providers.
CurrentStaff = NamedDependency[SkipValidation[Staff]]
CurrentDevice = NamedDependency[SkipValidation[Device]]
