"""``/api/v1/auth``: staff sign-in with a password or single sign-on, and sign-out.

Sign-in answers with the session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS) and
the CSRF token that cookie-authenticated changes must send back.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody, QueryParameter
from litestar.response import Redirect
from msgspec import Meta

from booking.api.client import client_address
from booking.api.dependencies import ClockDep, LimiterDep, SettingsDep, Transaction
from booking.api.staff import MeOut, me_out
from booking.auth.accounts import normalise_email, sso_sign_in
from booking.auth.authenticate import check_csrf, db_pool
from booking.auth.login import LOGIN_LIMIT, password_login, start_session
from booking.auth.oidc import CALLBACK_PATH, PENDING_COOKIE, PENDING_SECONDS, OidcClient
from booking.auth.passwords import MAX_LENGTH
from booking.auth.principals import Staff
from booking.auth.sessions import COOKIE, SessionStore
from booking.db.audit import ANONYMOUS, Actor, record
from booking.db.staff import StaffAccount
from booking.db.transaction import in_transaction
from booking.errors import BookingError, InvalidInput, NotFound
from booking.settings import Settings

_OIDC_PATH = CALLBACK_PATH.rsplit("/", 1)[0]
# Only paths on this site: "//evil.example" would leave it (open redirect).
LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\]{0,500}")


class LoginIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Annotated[str, Meta(min_length=1, max_length=254)]
    password: Annotated[str, Meta(min_length=1, max_length=MAX_LENGTH)]


def _sessions(request: Request[Any, Any, Any]) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


def _oidc(request: Request[Any, Any, Any]) -> OidcClient:
    oidc: OidcClient | None = request.app.state.oidc
    if oidc is None:
        raise NotFound("Single sign-on is not configured.")
    return oidc


async def _signed_in(
    request: Request[Any, Any, Any], account: StaffAccount, method: str, now: datetime
) -> tuple[MeOut, Cookie]:
    sessions = _sessions(request)
    session_id, session = await start_session(
        sessions, request.cookies.get(COOKIE), account, method, now
    )
    return me_out(Staff.of(account, session)), sessions.cookie(session_id)


def _pending_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=PENDING_COOKIE, value=value, max_age=max_age, path=_OIDC_PATH,
        secure=settings.secure_cookies, httponly=True, samesite="lax",
    )  # fmt: skip


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar's layered attribute

    @post("/login", status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginIn],
        settings: SettingsDep,
        clock: ClockDep,
        limiter: LimiterDep,
    ) -> Response[MeOut]:
        """A new session on every sign-in; a session cookie sent along is ended."""
        await limiter.hit(LOGIN_LIMIT, client_address(request, settings))
        now = clock.now()
        account = await password_login(
            db_pool(request), settings, now, normalise_email(data.email), data.password
        )
        me, cookie = await _signed_in(request, account, "password", now)
        return Response(me, cookies=[cookie])

    @post("/logout", status_code=204)
    async def logout(
        self, request: Request[Any, Any, Any], db: Transaction, clock: ClockDep
    ) -> Response[None]:
        sessions = _sessions(request)
        session_id = request.cookies.get(COOKIE)
        session = await sessions.load(session_id, clock.now()) if session_id else None
        if session_id and session is not None:
            check_csrf(request, session.csrf_token)
            await sessions.delete(session_id)
            actor = Actor("staff", session.user_id)
            await record(db, actor, "logout", "staff_user", session.user_id, None)
        return Response(None, status_code=204, cookies=[sessions.removal_cookie()])

    @get("/oidc/login")
    async def oidc_login(
        self,
        request: Request[Any, Any, Any],
        settings: SettingsDep,
        return_to: Annotated[str, QueryParameter(max_length=500)] = "/staff",
    ) -> Redirect:
        """Off to the identity provider; back at ``return_to`` (a path here) once signed in."""
        if not LOCAL_PATH.fullmatch(return_to):
            raise InvalidInput.field("return_to", "must be a path on this site, such as /staff")
        started = await _oidc(request).begin(return_to)
        return Redirect(
            started.url,
            status_code=302,
            cookies=[_pending_cookie(settings, started.browser, PENDING_SECONDS)],
        )

    @get("/oidc/callback")
    async def oidc_callback(
        self,
        request: Request[Any, Any, Any],
        settings: SettingsDep,
        clock: ClockDep,
        code: Annotated[str | None, QueryParameter(max_length=2048)] = None,
        state_: Annotated[str | None, QueryParameter(name="state", max_length=512)] = None,
    ) -> Redirect:
        """Where the identity provider sends the browser back, with a code or an error."""
        oidc, pool = _oidc(request), db_pool(request)
        try:
            if not code or not state_:
                raise InvalidInput("The identity provider did not complete the sign-in.")
            identity, return_to = await oidc.finish(
                code, state_, request.cookies.get(PENDING_COOKIE)
            )
            account = await in_transaction(pool, lambda conn: sso_sign_in(conn, identity))
        except BookingError as exc:
            async with pool.acquire() as conn:
                await record(
                    conn, ANONYMOUS, "login.failed", "staff_user", None, None,
                    {"method": "oidc", "reason": exc.code},
                )  # fmt: skip
            raise
        _, cookie = await _signed_in(request, account, "oidc", clock.now())
        return Redirect(
            return_to, status_code=302, cookies=[cookie, _pending_cookie(settings, "", 0)]
        )
