"""Queries for staff users, the locations they work at, and their personal API tokens.

Emails arrive lower-cased (``staff_user_email_lower``); tokens arrive as their SHA-256 only.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from booking.db import Connection


class StaffAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A staff user with the locations they work at; never the password hash."""

    id: int
    email: str
    display_name: str
    role: str
    active: bool
    session_version: int
    has_password: bool
    sso: bool
    locked_until: datetime | None
    created_at: datetime
    location_ids: list[int]
    location_slugs: list[str]


class LoginRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a password login needs to decide, hash included; stays inside the login use case."""

    id: int
    active: bool
    password_hash: str | None
    locked_until: datetime | None


class NewAccount(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    display_name: str
    role: str
    password_hash: str | None = None
    oidc_subject: str | None = None


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# Column lists are constants, never built from input; the f-strings below only join them.
_ACCOUNT_COLUMNS = """u.id, u.email, u.display_name, u.role, u.active, u.session_version,
    u.password_hash is not null as has_password, u.oidc_subject is not null as sso,
    u.locked_until, u.created_at, loc.location_ids, loc.location_slugs"""
_ACCOUNT_FROM = """staff_user u cross join lateral (
    select coalesce(array_agg(l.id order by l.slug), '{}') as location_ids,
           coalesce(array_agg(l.slug order by l.slug), '{}') as location_slugs
      from staff_location sl join location l on l.id = sl.location_id
     where sl.staff_user_id = u.id
) loc"""
_SELECT_ACCOUNT = f"select {_ACCOUNT_COLUMNS} from {_ACCOUNT_FROM}"  # noqa: S608
_TOKEN_COLUMNS = "id, name, created_at, last_used_at, revoked_at"  # noqa: S105 - column names


def _account(row: asyncpg.Record) -> StaffAccount:
    return StaffAccount(**dict(row))


# Accounts


async def account_by_id(conn: Connection, user_id: int) -> StaffAccount | None:
    row = await conn.fetchrow(f"{_SELECT_ACCOUNT} where u.id = $1", user_id)
    return None if row is None else _account(row)


async def lock_account(conn: Connection, user_id: int) -> StaffAccount | None:
    """For changes: concurrent edits of one account are applied one after the other."""
    row = await conn.fetchrow(f"{_SELECT_ACCOUNT} where u.id = $1 for update of u", user_id)
    return None if row is None else _account(row)


async def account_by_oidc_subject(conn: Connection, subject: str) -> StaffAccount | None:
    row = await conn.fetchrow(f"{_SELECT_ACCOUNT} where u.oidc_subject = $1", subject)
    return None if row is None else _account(row)


async def account_by_email(conn: Connection, email: str) -> StaffAccount | None:
    row = await conn.fetchrow(f"{_SELECT_ACCOUNT} where u.email = $1", email)
    return None if row is None else _account(row)


async def accounts(
    conn: Connection,
    *,
    sharing: list[str] | None,
    location: str | None,
    role: str | None,
    active: bool | None,
) -> list[StaffAccount]:
    """Accounts at any of the locations in ``sharing`` (None: all), by the optional filters."""
    rows = await conn.fetch(
        f"""
        {_SELECT_ACCOUNT}
         where ($1::text[] is null or loc.location_slugs && $1)
           and ($2::text is null or $2 = any(loc.location_slugs))
           and ($3::text is null or u.role = $3)
           and ($4::boolean is null or u.active = $4)
         order by u.email
        """,
        sharing,
        location,
        role,
        active,
    )
    return [_account(row) for row in rows]


async def insert_account(conn: Connection, new: NewAccount) -> int:
    """A duplicate email raises ``staff_user_email_key``, which the API reports as a conflict."""
    user_id: int = await conn.fetchval(
        """
        insert into staff_user (email, display_name, role, password_hash, oidc_subject)
        values ($1, $2, $3, $4, $5)
        returning id
        """,
        new.email,
        new.display_name,
        new.role,
        new.password_hash,
        new.oidc_subject,
    )
    return user_id


async def insert_account_if_missing(conn: Connection, new: NewAccount) -> int | None:
    """The new account's id, or None when the email exists already."""
    user_id: int | None = await conn.fetchval(
        """
        insert into staff_user (email, display_name, role, password_hash, oidc_subject)
        values ($1, $2, $3, $4, $5)
        on conflict (email) do nothing
        returning id
        """,
        new.email,
        new.display_name,
        new.role,
        new.password_hash,
        new.oidc_subject,
    )
    return user_id


async def update_account(
    conn: Connection,
    user_id: int,
    *,
    email: str,
    display_name: str,
    role: str,
    active: bool,
) -> None:
    await conn.execute(
        """
        update staff_user set email = $2, display_name = $3, role = $4, active = $5
         where id = $1
        """,
        user_id,
        email,
        display_name,
        role,
        active,
    )


async def link_oidc_subject(conn: Connection, user_id: int, subject: str) -> None:
    await conn.execute("update staff_user set oidc_subject = $2 where id = $1", user_id, subject)


async def set_locations(conn: Connection, user_id: int, location_ids: list[int]) -> None:
    await conn.execute(
        "delete from staff_location where staff_user_id = $1 and location_id <> all($2::bigint[])",
        user_id,
        location_ids,
    )
    await conn.execute(
        """
        insert into staff_location (staff_user_id, location_id)
        select $1, unnest($2::bigint[])
        on conflict do nothing
        """,
        user_id,
        location_ids,
    )


async def location_ids(conn: Connection, slugs: list[str]) -> dict[str, int]:
    rows = await conn.fetch("select slug, id from location where slug = any($1::text[])", slugs)
    return {row["slug"]: row["id"] for row in rows}


async def lock_active_admin_ids(conn: Connection) -> list[int]:
    """Locked, so two admins demoting each other at once cannot leave nobody in charge."""
    rows = await conn.fetch(
        "select id from staff_user where role = 'admin' and active order by id for update"
    )
    return [row["id"] for row in rows]


# Passwords and lockout


async def login_record(conn: Connection, email: str) -> LoginRecord | None:
    row = await conn.fetchrow(
        "select id, active, password_hash, locked_until from staff_user where email = $1", email
    )
    return None if row is None else LoginRecord(**dict(row))


async def count_login_failure(
    conn: Connection, user_id: int, max_failures: int, lock_until: datetime
) -> datetime | None:
    """Count a failed password; the ``max_failures``-th in a row locks the account until then."""
    locked: datetime | None = await conn.fetchval(
        """
        update staff_user
           set failed_logins = case when failed_logins + 1 >= $2 then 0
                                    else failed_logins + 1 end,
               locked_until = case when failed_logins + 1 >= $2 then $3 else locked_until end
         where id = $1
        returning locked_until
        """,
        user_id,
        max_failures,
        lock_until,
    )
    return locked


async def clear_login_failures(conn: Connection, user_id: int) -> None:
    await conn.execute(
        "update staff_user set failed_logins = 0, locked_until = null where id = $1", user_id
    )


async def replace_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    """The same password under stronger hash parameters: sessions stay valid."""
    await conn.execute(
        "update staff_user set password_hash = $2 where id = $1", user_id, password_hash
    )


async def reset_password(conn: Connection, user_id: int, password_hash: str) -> None:
    """A new password ends every session, revokes every API token and lifts a lockout."""
    await conn.execute(
        """
        update staff_user
           set password_hash = $2, session_version = session_version + 1,
               failed_logins = 0, locked_until = null
         where id = $1
        """,
        user_id,
        password_hash,
    )
    await conn.execute(
        "update api_token set revoked_at = now() where staff_user_id = $1 and revoked_at is null",
        user_id,
    )


# Personal API tokens


async def account_by_api_token(
    conn: Connection, token_hash: bytes, now: datetime
) -> StaffAccount | None:
    """The active account owning this unrevoked token; notes when the token was last used."""
    row = await conn.fetchrow(
        f"""
        with used as (
            update api_token set last_used_at = $2
             where token_hash = $1 and revoked_at is null
            returning staff_user_id
        )
        {_SELECT_ACCOUNT} join used on used.staff_user_id = u.id
         where u.active
        """,  # noqa: S608
        token_hash,
        now,
    )
    return None if row is None else _account(row)


async def insert_api_token(
    conn: Connection, user_id: int, name: str, token_hash: bytes
) -> ApiToken:
    row = await conn.fetchrow(
        f"""
        insert into api_token (staff_user_id, name, token_hash) values ($1, $2, $3)
        returning {_TOKEN_COLUMNS}
        """,  # noqa: S608
        user_id,
        name,
        token_hash,
    )
    assert row is not None
    return ApiToken(**dict(row))


async def api_tokens(conn: Connection, user_id: int) -> list[ApiToken]:
    rows = await conn.fetch(
        f"select {_TOKEN_COLUMNS} from api_token where staff_user_id = $1 order by id",  # noqa: S608
        user_id,
    )
    return [ApiToken(**dict(row)) for row in rows]


async def revoke_api_token(
    conn: Connection, user_id: int, token_id: int
) -> tuple[ApiToken, bool] | None:
    """The token and whether this call revoked it; None when the user has no such token."""
    row = await conn.fetchrow(
        f"""
        update api_token set revoked_at = now()
         where id = $2 and staff_user_id = $1 and revoked_at is null
        returning {_TOKEN_COLUMNS}
        """,  # noqa: S608
        user_id,
        token_id,
    )
    if row is not None:
        return ApiToken(**dict(row)), True
    row = await conn.fetchrow(
        f"select {_TOKEN_COLUMNS} from api_token where id = $2 and staff_user_id = $1",  # noqa: S608
        user_id,
        token_id,
    )
    return None if row is None else (ApiToken(**dict(row)), False)
