"""Errors on the staff pages: signed out goes to the sign-in page, the rest is a staff page.

As on the citizen pages (``booking.pages.errors``), the API's handlers decide the status and
the logging; the page explains it in words for staff, not for citizens.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from booking.api.errors import EXCEPTION_HANDLERS
from booking.errors import ErrorBody, Unauthorized
from booking.pages.rendering import page
from booking.pages.staff_login import HOME, login_url

AnyRequest = Request[Any, Any, Any]
_KEPT = frozenset({"retry-after"})


def _to_login(request: AnyRequest, _exc: Exception) -> Response[Any]:
    """Back here once signed in: to this page, or for a form sent after the session ended,
    to the staff start page (a form's address has no page to show)."""
    here = request.url.path if request.method == "GET" else HOME
    return Redirect(login_url(here), status_code=303)


def _as_page(handler: Any) -> Any:
    def handle(request: AnyRequest, exc: Exception) -> Response[Any]:
        answer: Response[ErrorBody] = handler(request, exc)
        status = answer.content.status
        headers = {k: v for k, v in answer.headers.items() if k.lower() in _KEPT}
        return page(request, "staff/error.html", {"status": status}, status=status, headers=headers)

    return handle


STAFF_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    **{kind: _as_page(handler) for kind, handler in EXCEPTION_HANDLERS.items()},
    Unauthorized: _to_login,
}
