"""Refusals on the admin pages: signed out goes to the staff login, the rest is explained.

Status and logging are the JSON API's (``booking.api.errors``), as on the citizen pages;
the page says it in the admin's language.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from booking.api.errors import EXCEPTION_HANDLERS
from booking.errors import ErrorBody, Unauthorized
from booking.pages.rendering import page
from booking.pages.staff_login import login_url

AnyRequest = Request[Any, Any, Any]


def _login(request: AnyRequest) -> Redirect:
    """Back to this page after signing in (to the dashboard after a refused POST)."""
    back = request.url.path if request.method == "GET" else "/admin"
    if request.method == "GET" and request.url.query:
        back = f"{back}?{request.url.query}"
    return Redirect(login_url(back), status_code=303)


def _as_admin_page(handler: Any) -> Any:
    def handle(request: AnyRequest, exc: Exception) -> Response[Any]:
        if isinstance(exc, Unauthorized):
            return _login(request)
        answer: Response[ErrorBody] = handler(request, exc)
        status = answer.content.status
        # Litestar's own 403 here is the form token's: the form is older than the cookie.
        expired = isinstance(exc, PermissionDeniedException)
        return page(
            request, "admin/error.html", {"status": status, "expired": expired}, status=status
        )

    return handle


ADMIN_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    kind: _as_admin_page(handler) for kind, handler in EXCEPTION_HANDLERS.items()
}


class AdminPages(Controller):
    """Base of the admin controllers: their errors are admin pages."""

    include_in_schema = False
    exception_handlers = ADMIN_EXCEPTION_HANDLERS
