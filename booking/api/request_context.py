"""Request ids and the access log.

Each request gets an id: the caller's ``X-Request-ID`` when it looks like an id (a proxy's
or a load balancer's, so one request can be followed through every hop), else a new one.
Every log line written while the request runs carries it, and the response echoes it.

The access log names method, path, status and duration, never the query string (manage
links carry their token there) and never a body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Final

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from booking.log_config import REQUEST_ID

HEADER: Final = "X-Request-ID"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_ID_KEY: Final = "booking_request_id"
_STARTED_KEY: Final = "booking_request_started"

access_log = logging.getLogger("booking.access")


def request_id(scope: Scope) -> str:
    """The request's id, decided on first use and kept in the scope."""
    state = scope.setdefault("state", {})
    found: str | None = state.get(_ID_KEY)
    if found is None:
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        found = given.decode("ascii") if _SANE.fullmatch(given) else uuid.uuid4().hex
        state[_ID_KEY] = found
    return found


class RequestContextMiddleware(ASGIMiddleware):
    """Makes the request id visible to every log line of the request (guards included)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope.setdefault("state", {})[_STARTED_KEY] = time.perf_counter()
        token = REQUEST_ID.set(request_id(scope))
        try:
            await next_app(scope, receive, send)
        finally:
            REQUEST_ID.reset(token)


async def echo_and_log(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: runs for every response, the router's own 404 and 405 too."""
    if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
        return
    rid = request_id(scope)
    MutableScopeHeaders.from_message(message)[HEADER] = rid
    started: float | None = scope["state"].get(_STARTED_KEY)
    fields: dict[str, object] = {
        "method": scope["method"],
        "path": scope["path"][:300],
        "status": message["status"],
    }
    if started is not None:
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    access_log.info(
        "%s %s %d", fields["method"], fields["path"], fields["status"],
        extra={"request_id": rid, "fields": fields},
    )  # fmt: skip
