"""The admin pages ``/admin``: the same rules as the JSON admin API, as forms.

The router carries the API's guard (``staff_area``: signed-in staff, and location admins
where a route declares nothing), and every route declares what its API twin declares, so
a location admin reaches only their own locations and desk staff none. Each area's pages
are a module of their own: ``admin_hours``, ``admin_catalogue``, ``admin_office``,
``admin_people``, ``admin_statistics``.
"""

from __future__ import annotations

from litestar import Router, get
from litestar.response import Template

from booking.api.dependencies import Transaction
from booking.auth.guards import CurrentStaff, staff_area
from booking.auth.principals import Role
from booking.db import catalogue as q
from booking.pages import page_router
from booking.pages.admin_catalogue import LocationPages, ServicePages
from booking.pages.admin_errors import AdminPages
from booking.pages.admin_forms import AnyRequest, admin_page
from booking.pages.admin_hours import HoursPages
from booking.pages.admin_office import OfficePages
from booking.pages.admin_people import PeoplePages
from booking.pages.admin_statistics import StatisticsPages
from booking.settings import Settings


class DashboardPage(AdminPages):
    path = "/"

    @get("/")
    async def dashboard(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff
    ) -> Template:
        """The locations this person administers, like the API's location list."""
        locations = [loc for loc in await q.all_locations(db) if staff.works_at(loc.slug)]
        return admin_page(
            request, "admin/dashboard.html", staff, {"locations": locations, "location": None}
        )


def admin_pages_router(settings: Settings) -> Router:
    """Registered in the app next to the citizen pages."""
    return page_router(
        settings,
        "/admin",
        [
            DashboardPage,
            HoursPages,
            LocationPages,
            ServicePages,
            OfficePages,
            PeoplePages,
            StatisticsPages,
        ],
        guards=[staff_area(Role.LOCATION_ADMIN)],
    )
