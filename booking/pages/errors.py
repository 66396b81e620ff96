"""Errors on the pages: the API's handlers decide status and logging, the page explains.

Every handler of ``booking.api.errors`` is wrapped, so a page answers with the same status
as the JSON API would (and logs the same way), but as a page in the citizen's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.types import ExceptionHandlersMap

from booking.api.errors import EXCEPTION_HANDLERS
from booking.errors import ErrorBody
from booking.pages.rendering import page

# Headers of the JSON answer a page keeps: how long to wait before trying again.
_KEPT = frozenset({"retry-after"})


PageHandler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


def _as_page(handler: Any) -> PageHandler:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        answer: Response[ErrorBody] = handler(request, exc)
        status = answer.content.status
        headers = {k: v for k, v in answer.headers.items() if k.lower() in _KEPT}
        return page(
            request, "citizen/error.html", {"status": status}, status=status, headers=headers
        )

    return handle


PAGE_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    kind: _as_page(handler) for kind, handler in EXCEPTION_HANDLERS.items()
}
