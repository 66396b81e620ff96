"""``/api/v1/admin``: what admins and location admins maintain.

Every admin route hangs off this one router, whose guard admits signed-in staff only and,
where a route declares no requirement of its own (``booking.auth.guards.requires``), admins
only: a forgotten declaration fails closed. Location-scoped routes declare
``requires(Role.LOCATION_ADMIN, location="slug")``; the global catalogue (creating and
changing services, creating locations) and the audit log stay admin-only.
"""

from __future__ import annotations

from litestar import Router

from booking.api.admin_appointments import StaffAppointmentController
from booking.api.admin_audit import AuditController
from booking.api.admin_desks import DeskController
from booking.api.admin_devices import DeviceController
from booking.api.admin_hours import ClosureController, GridController, OpeningRuleController
from booking.api.admin_locations import LocationController
from booking.api.admin_outbox import OutboxController
from booking.api.admin_services import OfferController, ServiceController
from booking.api.admin_statistics import StatisticsController
from booking.api.admin_users import UserController
from booking.api.admin_waitlist import WaitlistFiguresController
from booking.api.privacy import CitizenDataController
from booking.api.staff import SECURITY
from booking.auth.guards import staff_area
from booking.auth.principals import Role

admin_router = Router(
    path="/api/v1/admin",
    route_handlers=[
        LocationController,
        ServiceController,
        OfferController,
        OpeningRuleController,
        ClosureController,
        GridController,
        StaffAppointmentController,
        StatisticsController,
        WaitlistFiguresController,
        UserController,
        DeviceController,
        DeskController,
        AuditController,
        CitizenDataController,
        OutboxController,
    ],
    guards=[staff_area(Role.ADMIN)],
    security=SECURITY,
    tags=["admin"],
)
