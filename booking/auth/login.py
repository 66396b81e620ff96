"""Signing in with a password, and the session every kind of sign-in ends with.

Every refusal looks the same to the caller (unknown email, wrong password, locked or
deactivated account) and takes as long, so the answer does not tell which emails are
staff accounts. The audit log and the lockout counter know the real reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from booking.auth.passwords import verify_password
from booking.auth.sessions import Session, SessionStore
from booking.db import staff as q
from booking.db.audit import ANONYMOUS, Actor, record
from booking.db.staff import LoginRecord, StaffAccount
from booking.errors import Unauthorized
from booking.ratelimit import Limit
from booking.settings import Settings

# Per client address (hashed): enough for typos, far too few for guessing.
LOGIN_LIMIT = Limit("login", 10, 60)


class LoginFailed(Unauthorized):
    code = "login_failed"

    def __init__(self) -> None:
        super().__init__(
            "Email or password is wrong, or the account is locked for a while after too many"
            " failed attempts. / E-Mail oder Passwort ist falsch, oder das Konto ist nach zu"
            " vielen Fehlversuchen vorübergehend gesperrt."
        )


def _refusal(found: LoginRecord | None, now: datetime) -> str | None:
    """Why this account cannot sign in whatever the password, for the audit log."""
    if found is None:
        return "unknown_account"
    if not found.active:
        return "inactive"
    if found.locked_until is not None and found.locked_until > now:
        return "locked"
    if found.password_hash is None:
        return "no_password"
    return None


async def password_login(
    pool: asyncpg.Pool, settings: Settings, now: datetime, email: str, password: str
) -> StaffAccount:
    """The account, or LoginFailed once the failure is counted and logged."""
    async with pool.acquire() as conn:
        found = await q.login_record(conn, email)
        refusal = _refusal(found, now)
        # No hash to check still costs one verification, against a decoy.
        usable_hash = found.password_hash if found is not None and refusal is None else None
        matches, rehashed = await verify_password(usable_hash, password)
        # Its own transaction, committed before the 401 leaves: a failed request still counts.
        async with conn.transaction():
            if found is None or not matches:
                detail: dict[str, object] = {"method": "password", "reason": refusal or "password"}
                if found is not None and refusal is None:
                    lock_until = now + timedelta(minutes=settings.login_lock_minutes)
                    locked = await q.count_login_failure(
                        conn, found.id, settings.login_max_failures, lock_until
                    )
                    detail["locked"] = locked == lock_until
                await record(
                    conn, ANONYMOUS, "login.failed", "staff_user",
                    None if found is None else found.id, None, detail,
                )  # fmt: skip
                account = None
            else:
                await q.clear_login_failures(conn, found.id)
                if rehashed is not None:
                    await q.replace_password_hash(conn, found.id, rehashed)
                await record(
                    conn, Actor("staff", found.id), "login", "staff_user", found.id, None,
                    {"method": "password"},
                )  # fmt: skip
                account = await q.account_by_id(conn, found.id)
    if account is None:
        raise LoginFailed
    return account


async def start_session(
    sessions: SessionStore,
    replaced: str | None,
    account: StaffAccount,
    method: str,
    now: datetime,
) -> tuple[str, Session]:
    """Always a new session id; the one the browser brought (if any) ends here."""
    if replaced:
        await sessions.delete(replaced)
    return await sessions.create(account.id, account.session_version, method, now)
