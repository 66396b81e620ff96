"""Server-side staff sessions in Redis; the browser holds only a random id in a cookie.

Redis keeps a session under the SHA-256 of its id, so whoever reads Redis finds no usable
session ids. A session ends after ``session_idle_minutes`` without a request and
``session_max_hours`` after sign-in however busy: Redis expires the key, and the check
against the app's clock does the same for a clock that tests move. Signing in always makes
a new id and drops the old one, so an id planted before sign-in is worth nothing.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime

import msgspec
from litestar.datastructures import Cookie
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.errors import Unavailable
from booking.settings import Settings

COOKIE = "booking_session"
# Cookie-authenticated writes must echo the session's token in this header (CSRF).
CSRF_HEADER = "X-CSRF-Token"


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """Times are seconds since the epoch by the app's clock."""

    user_id: int
    # staff_user.session_version when signed in; a password reset bumps it.
    version: int
    csrf_token: str
    method: str
    created_at: float
    seen_at: float


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Session)


def _unavailable() -> Unavailable:
    return Unavailable(
        "Sign-in is unavailable at the moment; please try again shortly.",
        headers={"Retry-After": "5"},
    )


class SessionStore:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._idle = settings.session_idle_minutes * 60
        self._max = settings.session_max_hours * 3600
        self._secure = settings.secure_cookies

    @staticmethod
    def _key(session_id: str) -> str:
        return "session:" + hashlib.sha256(session_id.encode()).hexdigest()

    async def create(
        self, user_id: int, version: int, method: str, now: datetime
    ) -> tuple[str, Session]:
        """A fresh id and its session; the id goes into the cookie and nowhere else."""
        session_id = secrets.token_urlsafe(32)
        at = now.timestamp()
        session = Session(
            user_id=user_id,
            version=version,
            csrf_token=secrets.token_urlsafe(32),
            method=method,
            created_at=at,
            seen_at=at,
        )
        await self._save(session_id, session)
        return session_id, session

    async def load(self, session_id: str, now: datetime) -> Session | None:
        """The live session with this id, its idle time restarted; None once it has ended."""
        try:
            raw = await self._redis.get(self._key(session_id))
        except (RedisError, OSError):
            raise _unavailable() from None
        if raw is None:
            return None
        try:
            session = _decoder.decode(raw)
        except msgspec.DecodeError:
            return None
        at = now.timestamp()
        if at - session.created_at >= self._max or at - session.seen_at >= self._idle:
            await self.delete(session_id)
            return None
        session = msgspec.structs.replace(session, seen_at=max(at, session.seen_at))
        await self._save(session_id, session)
        return session

    async def delete(self, session_id: str) -> None:
        try:
            await self._redis.delete(self._key(session_id))
        except (RedisError, OSError):
            raise _unavailable() from None

    async def _save(self, session_id: str, session: Session) -> None:
        left = min(self._idle, self._max - (session.seen_at - session.created_at))
        try:
            await self._redis.set(
                self._key(session_id), _encoder.encode(session), ex=max(1, math.ceil(left))
            )
        except (RedisError, OSError):
            raise _unavailable() from None

    def cookie(self, session_id: str) -> Cookie:
        return Cookie(
            key=COOKIE,
            value=session_id,
            max_age=self._max,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="lax",
        )

    def removal_cookie(self) -> Cookie:
        return Cookie(
            key=COOKIE,
            value="",
            max_age=0,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="lax",
        )
