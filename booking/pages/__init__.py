"""The citizen's web pages: server-rendered, working without JavaScript, German and English.

One router holds them, with its own CSRF protection (Litestar's double-submit cookie, only
on these paths, so the JSON API and the staff session are untouched), HTML error pages and
``Cache-Control: no-store`` (pages carry manage tokens and personal data).
"""

from __future__ import annotations

import hashlib
import hmac

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware

from booking.pages.citizen import CitizenPages
from booking.pages.errors import PAGE_EXCEPTION_HANDLERS
from booking.pages.manage import ManagePages
from booking.settings import Settings

CSRF_COOKIE = "citizen_csrf"


def pages_router(settings: Settings) -> Router:
    csrf = CSRFConfig(
        # A key of its own: the form token never doubles as any other secret.
        secret=hmac.new(settings.secret_key.encode(), b"page forms", hashlib.sha256).hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
    )
    return Router(
        path="/",
        route_handlers=[CitizenPages, ManagePages],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
