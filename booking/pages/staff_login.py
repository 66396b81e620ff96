"""The sign-in page of all staff and admins (``/staff/login``), and signing out.

It makes the same Redis session as ``POST /api/v1/auth/login`` (``booking.auth.login``), so
the staff and admin pages and the JSON API all recognise it. ``next`` is where the browser
goes once signed in: only a path on this site, never ``//elsewhere`` (open redirect).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from booking.api.auth import LOCAL_PATH
from booking.api.client import client_address
from booking.api.dependencies import ClockDep, LimiterDep, SettingsDep, Transaction
from booking.auth.accounts import normalise_email
from booking.auth.authenticate import db_pool
from booking.auth.login import LOGIN_LIMIT, LoginFailed, password_login, start_session
from booking.auth.passwords import MAX_LENGTH
from booking.auth.sessions import COOKIE, SessionStore
from booking.db.audit import Actor, record
from booking.errors import TooManyRequests
from booking.i18n import N_
from booking.pages.rendering import page, url

AnyRequest = Request[Any, Any, Any]
HOME = "/staff"
LOGIN = "/staff/login"
_MAX_EMAIL = 254


def safe_next(candidate: object) -> str:
    """``candidate`` when it is a path on this site, else the staff start page."""
    if isinstance(candidate, str) and LOCAL_PATH.fullmatch(candidate):
        return candidate
    return HOME


def login_url(next_path: str) -> str:
    return url(LOGIN, [] if next_path == HOME else [("next", next_path)])


def _sessions(request: AnyRequest) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


def _form_page(
    request: AnyRequest,
    next_path: str,
    *,
    email: str = "",
    problems: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    settings = request.app.state.settings
    sso = None
    if settings.oidc_enabled:
        sso = "/api/v1/auth/oidc/login?" + urlencode({"return_to": next_path})
    return page(
        request,
        "staff/login.html",
        {"next": next_path, "email": email, "problems": problems or {}, "problem": problem,
         "sso_url": sso, "lock_minutes": settings.login_lock_minutes},
        status=status,
        switch=(LOGIN, [] if next_path == HOME else [("next", next_path)]),
        headers=headers,
    )  # fmt: skip


class StaffLoginPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def form(self, request: AnyRequest) -> Template:
        return _form_page(request, safe_next(request.query_params.get("next")))

    @post("/login")
    async def sign_in(
        self, request: AnyRequest, settings: SettingsDep, clock: ClockDep, limiter: LimiterDep
    ) -> Template | Redirect:
        """Wrong details answer on the form, next to the password, in the page's language."""
        form = await request.form()
        next_path = safe_next(form.get("next"))
        email = normalise_email(str(form.get("email", "")))[:_MAX_EMAIL]
        password = str(form.get("password", ""))
        problems = {}
        if not email:
            problems["email"] = N_("Enter your email address.")
        if not password:
            problems["password"] = N_("Enter your password.")
        elif len(password) > MAX_LENGTH:
            problems["password"] = N_("This password is too long.")
        if problems:
            return _form_page(request, next_path, email=email, problems=problems, status=422)
        try:
            await limiter.hit(LOGIN_LIMIT, client_address(request, settings))
            now = clock.now()
            account = await password_login(db_pool(request), settings, now, email, password)
        except TooManyRequests as exc:
            return _form_page(
                request, next_path, email=email, status=429, headers=exc.headers,
                problem=N_("Too many sign-in attempts. Wait a minute, then try again."),
            )  # fmt: skip
        except LoginFailed:
            failed = {"password": "login_failed"}
            return _form_page(request, next_path, email=email, problems=failed, status=401)
        sessions = _sessions(request)
        session_id, _ = await start_session(
            sessions, request.cookies.get(COOKIE), account, "password", now
        )
        return Redirect(next_path, status_code=303, cookies=[sessions.cookie(session_id)])

    @post("/logout")
    async def sign_out(
        self, request: AnyRequest, db: Transaction, clock: ClockDep
    ) -> Response[Any]:
        """The session ends here and in Redis; the form token proved it was this page."""
        sessions = _sessions(request)
        session_id = request.cookies.get(COOKIE)
        session = await sessions.load(session_id, clock.now()) if session_id else None
        if session_id and session is not None:
            await sessions.delete(session_id)
            actor = Actor("staff", session.user_id)
            await record(db, actor, "logout", "staff_user", session.user_id, None)
        done = url(LOGIN, [("signed_out", "1")])
        return Redirect(done, status_code=303, cookies=[sessions.removal_cookie()])
