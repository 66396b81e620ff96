"""The admin pages' base: signed out goes to the staff login, other refusals are explained
on an admin page (``booking.pages.errors``)."""

from __future__ import annotations

from litestar import Controller

from booking.pages.errors import page_exception_handlers

ADMIN_EXCEPTION_HANDLERS = page_exception_handlers("admin/error.html", login_home="/admin")


class AdminPages(Controller):
    """Base of the admin controllers: their errors are admin pages."""

    include_in_schema = False
    exception_handlers = ADMIN_EXCEPTION_HANDLERS
