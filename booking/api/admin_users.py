"""Admin API for staff accounts: create, list, change, deactivate, assign locations, reset.

Admins manage everyone; location admins the staff of their own locations (the rules are in
``booking.auth.accounts``). A deactivated account is kept (the audit log refers to it) and
can be reactivated; its sessions and tokens stop working at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from booking.api.admin_common import Line, Slug, given
from booking.api.dependencies import Transaction
from booking.auth import accounts, passwords
from booking.auth.accounts import EMAIL_PATTERN, AccountChange, normalise_email
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.db import Connection
from booking.db.staff import NewAccount, StaffAccount

Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]
Locations = Annotated[list[Slug], Meta(max_length=200, description="location slugs")]
Password = Annotated[str, Meta(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)]


class UserPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every field optional; ``locations`` replaces the whole set, ``active`` false deactivates."""

    email: Email | UnsetType = UNSET
    display_name: Line | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    locations: Locations | UnsetType = UNSET


class UserIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Without ``password`` the user signs in by single sign-on or after a password reset."""

    email: Email
    display_name: Line = ""
    role: Role
    locations: Locations = msgspec.field(default_factory=list)
    password: Password | None = None


class UserOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    email: str
    display_name: str
    role: str
    active: bool
    locations: list[str]
    has_password: bool
    sso: bool
    locked_until: datetime | None
    created_at: datetime


class PasswordIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Without ``password`` a random one is made and returned this once."""

    password: Password | None = None


class PasswordOut(msgspec.Struct, frozen=True):
    """``password`` only when it was generated; a chosen one is never echoed."""

    password: str | None


def _out(account: StaffAccount) -> UserOut:
    return UserOut(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        role=account.role,
        active=account.active,
        locations=account.location_slugs,
        has_password=account.has_password,
        sso=account.sso,
        locked_until=account.locked_until,
        created_at=account.created_at,
    )


async def create_user(db: Connection, staff: Staff, data: UserIn) -> StaffAccount:
    """Shared by the API and the admin pages, as is ``update_user``."""
    new = NewAccount(
        email=normalise_email(data.email),
        display_name=data.display_name,
        role=data.role.value,
        password_hash=(
            None if data.password is None
            else await passwords.hash_password_async(data.password)
        ),
    )  # fmt: skip
    return await accounts.create_account(db, staff, new, data.locations)


async def update_user(db: Connection, staff: Staff, user_id: int, data: UserPatch) -> StaffAccount:
    change = AccountChange(**given(data))
    if change.email is not None:
        change = msgspec.structs.replace(change, email=normalise_email(change.email))
    return await accounts.change_account(db, staff, user_id, change)


class UserController(Controller):
    path = "/users"
    guards = [requires(Role.LOCATION_ADMIN)]  # noqa: RUF012 - Litestar's layered attribute

    @get()
    async def list_users(
        self,
        db: Transaction,
        staff: CurrentStaff,
        location: FromQuery[Slug | None] = None,
        role: FromQuery[Role | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[UserOut]:
        """Admins see everyone, location admins the staff of their locations."""
        found = await accounts.visible_accounts(
            db, staff, location=location, role=role, active=active
        )
        return [_out(account) for account in found]

    @post()
    async def create_user(
        self, db: Transaction, staff: CurrentStaff, data: JSONBody[UserIn]
    ) -> UserOut:
        return _out(await create_user(db, staff, data))

    @get("/{user_id:int}")
    async def get_user(
        self, db: Transaction, staff: CurrentStaff, user_id: FromPath[int]
    ) -> UserOut:
        return _out(await accounts.visible_account(db, staff, user_id))

    @patch("/{user_id:int}")
    async def update_user(
        self, db: Transaction, staff: CurrentStaff, user_id: FromPath[int],
        data: JSONBody[UserPatch],
    ) -> UserOut:  # fmt: skip
        return _out(await update_user(db, staff, user_id, data))

    @post("/{user_id:int}/password", status_code=200)
    async def reset_password(
        self, db: Transaction, staff: CurrentStaff, user_id: FromPath[int],
        data: JSONBody[PasswordIn],
    ) -> PasswordOut:  # fmt: skip
        """Ends the user's sessions, revokes their API tokens and lifts a lockout."""
        password = await accounts.reset_password(db, staff, user_id, data.password)
        return PasswordOut(password if data.password is None else None)
