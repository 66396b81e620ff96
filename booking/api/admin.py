"""``/api/v1/admin``: the catalogue, opening hours and slot grid that admins maintain.

Every admin route hangs off this one router, so the admin guard (issue "Staff login") is
added in one place and no route can be forgotten.
"""

from __future__ import annotations

from litestar import Router

from booking.api.admin_appointments import StaffAppointmentController
from booking.api.admin_hours import ClosureController, GridController, OpeningRuleController
from booking.api.admin_locations import LocationController
from booking.api.admin_services import OfferController, ServiceController
from booking.api.admin_statistics import StatisticsController

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
    ],
    tags=["admin"],
)
