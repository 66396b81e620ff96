"""Browser hardening on every response, and strict JSON bodies on every request that has one.

The headers go out from a ``before_send`` hook, so they are on every answer the app gives:
pages, JSON, errors, static files and the router's own 404 and 405.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import ClientException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from booking.settings import Settings

# Scripts and styles from this site only: nothing inline, so injected markup cannot run.
# frame-ancestors 'none': no page (kiosk and display included) can be framed by another
# site to trick a click; the kiosk runs full-screen, not in a frame.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS: Final = "max-age=63072000; includeSubDomains"


def _headers(settings: Settings) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        # Manage and confirmation links carry their token in the query: never pass them on.
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        # The kiosk may scan a booking's QR code with its own camera; nothing else needs one.
        ("Permissions-Policy", "camera=(self), geolocation=(), microphone=(), payment=()"),
    ]
    if settings.secure_cookies:  # served over HTTPS
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def security_headers(settings: Settings) -> BeforeMessageSendHookHandler:
    fixed = _headers(settings)

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed:
            headers[name] = value
        # Answers about appointments hold personal data: no cache keeps them, unless the
        # handler chose otherwise (the public transparency figures).
        if scope["path"].startswith("/api/") and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"

    return add


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class StrictJsonRequest(Request[Any, Any, Any]):
    """JSON bodies must say so and be UTF-8.

    A body sent as ``text/plain`` or a form is what a foreign page can make a browser post
    without asking (a CSRF "simple request"), so it is refused with 415 rather than parsed.
    Invalid UTF-8 and nesting deeper than the decoder's recursion limit are the client's
    mistakes (400), not unexpected errors.
    """

    async def json(self) -> Any:
        media_type, _ = self.content_type
        if await self.body() and not _is_json(media_type):
            raise ClientException(
                "Send the body as JSON with Content-Type: application/json.",
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise ClientException("The body is not valid UTF-8.") from None
        except RecursionError:
            raise ClientException("The body is nested too deeply.") from None
