"""Signing a kiosk or a display board in: its device token is exchanged once for a cookie.

A browser cannot send an ``Authorization`` header with a page load or an ``EventSource``, so
the device's pages take a cookie instead, and that is the one mechanism: the pages (and the
display's live feed, mounted under ``/display/{slug}``) are page routes behind the pages'
CSRF middleware, and only there does ``current_device`` read the cookie; the JSON API stays
bearer-only. The cookie is a signed reference to the token, not the token
(``authenticate.device_cookie_value``): HttpOnly, SameSite=Strict, Secure behind HTTPS,
limited to the device's own pages and kept for 400 days (Chromium's limit), while every
request still asks the database, so revoking the device ends it at once.

An admin may set a device up from a link: ``.../anmelden?token=`` signs in once and
redirects to the clean address, taking the token out of the address bar and history.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from booking import queueing
from booking.api.dependencies import Transaction
from booking.auth.authenticate import DEVICE_COOKIE, device_cookie_value
from booking.auth.guards import WrongDevice, WrongLocation
from booking.auth.principals import DeviceKind
from booking.db import Connection
from booking.db import devices as device_q
from booking.errors import Unauthorized
from booking.i18n import N_
from booking.pages.rendering import page
from booking.settings import Settings
from booking.tokens import token_hash

AnyRequest = Request[Any, Any, Any]
HOME = {DeviceKind.KIOSK: "/kiosk", DeviceKind.DISPLAY: "/display"}
_MAX_AGE = 400 * 24 * 3600
_MAX_TOKEN_LENGTH = 256
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
NOT_SIGNED_IN = N_("This device is not signed in.")
_WRONG_KIND = {
    DeviceKind.KIOSK: N_("This is not the token of a ticket kiosk."),
    DeviceKind.DISPLAY: N_("This is not the token of a display board."),
}
_UNKNOWN = N_("This token is unknown or has been revoked. Ask an administrator for a new one.")
_ELSEWHERE = N_("This device belongs to another location.")


def home(kind: DeviceKind, slug: str) -> str:
    """The device's start page; its cookie is limited to this path."""
    return f"{HOME[kind]}/{slug}"


def _cookie(settings: Settings, kind: DeviceKind, slug: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=DEVICE_COOKIE, value=value, max_age=max_age, path=home(kind, slug),
        httponly=True, samesite="strict", secure=settings.secure_cookies,
    )  # fmt: skip


async def _problem(conn: Connection, kind: DeviceKind, slug: str, token: str) -> str | None:
    """Why ``token`` cannot sign in a ``kind`` device at ``slug`` (None: it can)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return _UNKNOWN
    device = await device_q.device_by_token(conn, token_hash(token))
    if device is None:
        return _UNKNOWN
    if device.kind != kind:
        return _WRONG_KIND[kind]
    if device.location_slug != slug:
        return _ELSEWHERE
    return None


def signin_page(
    request: AnyRequest, kind: DeviceKind, slug: str, *, problem: str | None, status: int
) -> Template:
    return page(
        request,
        "kiosk/device_signin.html",
        {"kind": kind.value, "slug": slug, "action": f"{home(kind, slug)}/anmelden",
         "problem": problem},
        status=status,
        switch=(f"{home(kind, slug)}/anmelden", []),
    )  # fmt: skip


class DeviceSignIn(Controller):
    """``GET``/``POST /anmelden`` below a device's home; subclasses name the kind and path."""

    kind: ClassVar[DeviceKind]
    include_in_schema = False

    async def _answer(
        self, request: AnyRequest, db: Connection, slug: str, token: str
    ) -> Template | Redirect:
        await queueing.location_by_slug(db, slug)  # 404 for an unknown office
        problem = await _problem(db, self.kind, slug, token)
        if problem is not None:
            return signin_page(request, self.kind, slug, problem=problem, status=403)
        settings: Settings = request.app.state.settings
        value = device_cookie_value(settings.secret_key, token)
        cookie = _cookie(settings, self.kind, slug, value, _MAX_AGE)
        return Redirect(home(self.kind, slug), status_code=303, cookies=[cookie])

    @get("/anmelden")
    async def form(
        self, request: AnyRequest, db: Transaction, slug: FromPath[str]
    ) -> Template | Redirect:
        """The form; with ``?token=`` (a set-up link) signs in at once and leaves the URL."""
        token = request.query_params.get("token")
        if token is not None:
            return await self._answer(request, db, slug, token.strip())
        await queueing.location_by_slug(db, slug)
        return signin_page(request, self.kind, slug, problem=None, status=200)

    @post("/anmelden")
    async def sign_in(
        self, request: AnyRequest, db: Transaction, slug: FromPath[str]
    ) -> Template | Redirect:
        form = await request.form()
        return await self._answer(request, db, slug, str(form.get("token", "")).strip())


def not_signed_in(kind: DeviceKind) -> ExceptionHandlersMap:
    """For a device's pages: without a valid cookie, the sign-in form instead of an error."""

    def handle(request: AnyRequest, exc: Exception) -> Response[Any]:
        slug = str(request.path_params.get("slug", ""))
        message = _ELSEWHERE if isinstance(exc, WrongLocation) else NOT_SIGNED_IN
        status = 401 if isinstance(exc, Unauthorized) else 403
        answer = signin_page(request, kind, slug, problem=message, status=status)
        if _SLUG.fullmatch(slug):  # it names the cookie's path
            settings: Settings = request.app.state.settings
            answer.cookies.append(_cookie(settings, kind, slug, "", 0))  # forget a stale one
        return answer

    return {Unauthorized: handle, WrongDevice: handle, WrongLocation: handle}
