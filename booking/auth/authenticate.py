"""From a request's credentials to who is asking, once per request.

Staff send either ``Authorization: Bearer <personal API token>`` or the session cookie.
A cookie travels with every request the browser makes, also those another site starts, so
a cookie-authenticated write must echo the session's CSRF token in ``X-CSRF-Token``; a
bearer token is never sent by the browser on its own and needs no such proof. Requests
without a session cookie (the citizens' public API) never meet this check at all.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

import asyncpg
from litestar.connection import ASGIConnection

from booking.auth.principals import Staff
from booking.auth.sessions import COOKIE, CSRF_HEADER, SessionStore
from booking.clock import Clock
from booking.db import devices as device_q
from booking.db import staff as staff_q
from booking.db.devices import Device
from booking.errors import Forbidden, Unauthorized
from booking.tokens import token_hash

Connection = ASGIConnection[Any, Any, Any, Any]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Route option of the web pages, whose forms carry a CSRF form token that Litestar's CSRF
# middleware has checked before any handler or guard runs (booking/pages/__init__.py).
FORM_CSRF = "form_csrf"
_STAFF_KEY = "booking_staff"
_DEVICE_KEY = "booking_device"
# Our tokens are 48 characters; anything far longer is not one of them.
_MAX_TOKEN_LENGTH = 256


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def bearer_token(connection: Connection) -> str | None:
    """The bearer token, None without an Authorization header, 401 for any other scheme."""
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise Unauthorized("Send the token as: Authorization: Bearer <token>.")
    return token


def db_pool(connection: Connection) -> asyncpg.Pool:
    pool: asyncpg.Pool = connection.app.state.db_pool
    return pool


def _now(connection: Connection) -> datetime:
    clock: Clock = connection.app.state.clock
    return clock.now()


async def current_staff(connection: Connection) -> Staff:
    """The signed-in staff member, or 401; remembered for the rest of the request."""
    cached: Staff | None = connection.state.get(_STAFF_KEY)
    if cached is None:
        cached = await _authenticate_staff(connection)
        connection.state[_STAFF_KEY] = cached
    return cached


async def _authenticate_staff(connection: Connection) -> Staff:
    token = bearer_token(connection)
    if token is not None:
        async with db_pool(connection).acquire() as conn:
            account = await staff_q.account_by_api_token(conn, token_hash(token), _now(connection))
        if account is None:
            raise Unauthorized("This token is unknown or revoked.")
        return Staff.of(account, None)
    session_id = connection.cookies.get(COOKIE)
    if not session_id:
        raise Unauthorized()
    sessions: SessionStore = connection.app.state.sessions
    session = await sessions.load(session_id, _now(connection))
    if session is None:
        raise Unauthorized("Your session has ended; please sign in again.")
    async with db_pool(connection).acquire() as conn:
        account = await staff_q.account_by_id(conn, session.user_id)
    if account is None or not account.active or account.session_version != session.version:
        await sessions.delete(session_id)
        raise Unauthorized("Your session has ended; please sign in again.")
    method = connection.scope.get("method", "GET")
    if method not in _SAFE_METHODS and not connection.route_handler.opt.get(FORM_CSRF):
        check_csrf(connection, session.csrf_token)
    return Staff.of(account, session)


def check_csrf(connection: Connection, expected: str) -> None:
    presented = connection.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise CsrfFailed(
            f"Changes made with a session cookie need the {CSRF_HEADER} header "
            "that sign-in and /api/v1/staff/me return."
        )


# A device signed in on its pages (booking/pages/device_signin.py) carries this cookie: a
# reference to its token, never the token. It is read only on page routes, which the pages'
# CSRF middleware protects, so the JSON API stays bearer-only and needs no new CSRF rule.
DEVICE_COOKIE = "booking_device"


def device_cookie_value(secret_key: str, token: str) -> str:
    """The token's hash, signed: useless as a bearer token, and unforgeable from a leaked hash."""
    digest = token_hash(token).hex()
    return f"{digest}.{_device_mac(secret_key, digest)}"


def _device_mac(secret_key: str, digest: str) -> str:
    key = hmac.new(secret_key.encode(), b"device cookie", "sha256").digest()
    return hmac.new(key, digest.encode(), "sha256").hexdigest()


def _device_cookie_hash(connection: Connection) -> bytes | None:
    if not connection.route_handler.opt.get(FORM_CSRF):
        return None
    digest, _, mac = connection.cookies.get(DEVICE_COOKIE, "").partition(".")
    secret_key: str = connection.app.state.settings.secret_key
    expected = _device_mac(secret_key, digest).encode()
    if not hmac.compare_digest(mac.encode(), expected):
        return None
    return bytes.fromhex(digest)  # hex: we signed it


async def current_device(connection: Connection) -> Device:
    """The device whose unrevoked token came with the request (or, on its pages, whose
    signed cookie did), or 401. The database is asked every time: revoking ends access."""
    cached: Device | None = connection.state.get(_DEVICE_KEY)
    if cached is None:
        token = bearer_token(connection)
        digest = token_hash(token) if token is not None else _device_cookie_hash(connection)
        if digest is None:
            raise Unauthorized("Devices send their token as: Authorization: Bearer <token>.")
        async with db_pool(connection).acquire() as conn:
            cached = await device_q.device_by_token(conn, digest)
        if cached is None:
            raise Unauthorized("This device token is unknown or revoked.")
        connection.state[_DEVICE_KEY] = cached
    return cached
