"""The web pages: server-rendered, working without JavaScript, German and English.

Every page router gets the same frame from ``page_router``: its own CSRF protection
(Litestar's double-submit cookie with a form field, only on page paths, so the JSON API is
untouched), HTML error pages and ``Cache-Control: no-store`` (pages carry manage tokens and
personal data). Staff pages sign in with the API's session cookie; their forms prove
themselves through this form token instead of the API's ``X-CSRF-Token`` header, which a
plain HTML form cannot send (``FORM_CSRF`` tells ``booking.auth.authenticate`` so).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ControllerRouterHandler

from booking.auth.authenticate import FORM_CSRF
from booking.pages.citizen import CitizenPages
from booking.pages.errors import PAGE_EXCEPTION_HANDLERS
from booking.pages.join import JoinPages
from booking.pages.location import LocationPages
from booking.pages.manage import ManagePages
from booking.pages.waitlist import WaitlistPages
from booking.pages.waitlist_offer import OfferPages
from booking.settings import Settings

CSRF_COOKIE = "citizen_csrf"


def page_router(
    settings: Settings, path: str, handlers: Sequence[ControllerRouterHandler], **extra: Any
) -> Router:
    """A router of pages; ``extra`` goes to the Router (guards, dependencies, ...)."""
    csrf = CSRFConfig(
        # A key of its own: the form token never doubles as any other secret.
        secret=hmac.new(settings.secret_key.encode(), b"page forms", hashlib.sha256).hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
    )
    return Router(
        path=path,
        route_handlers=handlers,
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
        opt={FORM_CSRF: True},
        **extra,
    )


def pages_router(settings: Settings) -> Router:
    """The citizen's pages."""
    return page_router(
        settings,
        "/",
        [CitizenPages, ManagePages, WaitlistPages, OfferPages, LocationPages, JoinPages],
    )
