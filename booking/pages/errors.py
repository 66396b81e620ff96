"""Errors on the pages: the API's handlers decide status and logging, the page explains.

Every handler of ``booking.api.errors`` is wrapped, so a page answers with the same status
as the JSON API would (and logs the same way), but as a page in the reader's language. Each
area shows its own error template; the staff areas send a signed-out reader to the sign-in
page instead, and come back afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from booking.api.errors import EXCEPTION_HANDLERS
from booking.errors import ErrorBody, Unauthorized
from booking.pages.rendering import page
from booking.pages.staff_login import HOME, login_url

# Headers of the JSON answer a page keeps: how long to wait before trying again.
_KEPT = frozenset({"retry-after"})

AnyRequest = Request[Any, Any, Any]
PageHandler = Callable[[AnyRequest, Exception], Response[Any]]


def login_redirect(request: AnyRequest, home: str) -> Redirect:
    """To the sign-in page, and back to this page afterwards (to ``home`` after a form sent
    when the session had ended: a form's address has no page to show)."""
    back = home
    if request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(login_url(back), status_code=303)


def page_exception_handlers(
    template: str, *, login_home: str | None = None
) -> ExceptionHandlersMap:
    """The API's handlers as pages of ``template`` (given ``status``, and ``expired`` when
    the form's CSRF token was refused: the form is older than its cookie)."""

    def as_page(handler: Any) -> PageHandler:
        def handle(request: AnyRequest, exc: Exception) -> Response[Any]:
            if login_home is not None and isinstance(exc, Unauthorized):
                return login_redirect(request, login_home)
            answer: Response[ErrorBody] = handler(request, exc)
            status = answer.content.status
            headers = {k: v for k, v in answer.headers.items() if k.lower() in _KEPT}
            expired = isinstance(exc, PermissionDeniedException)
            context = {"status": status, "expired": expired}
            return page(request, template, context, status=status, headers=headers)

        return handle

    return {kind: as_page(handler) for kind, handler in EXCEPTION_HANDLERS.items()}


PAGE_EXCEPTION_HANDLERS = page_exception_handlers("citizen/error.html")
STAFF_EXCEPTION_HANDLERS = page_exception_handlers("staff/error.html", login_home=HOME)
ADMIN_EXCEPTION_HANDLERS = page_exception_handlers("admin/error.html", login_home="/admin")
