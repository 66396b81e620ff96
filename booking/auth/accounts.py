"""Staff accounts: who may see, create and change whom, and the changes themselves.

Admins manage everyone. A location admin sees the staff of their locations and manages
those who work only at their locations and are not admins; they grant the roles desk and
location_admin at their own locations only. Nobody changes their own role or deactivates
themselves, and the last active admin stays.
"""

from __future__ import annotations

import re

import msgspec

from booking.auth import passwords
from booking.auth.principals import Role, Staff
from booking.db import Connection
from booking.db import staff as q
from booking.db.audit import SYSTEM, Actor, record
from booking.db.staff import NewAccount, StaffAccount
from booking.errors import Conflict, Forbidden, InvalidInput, NotFound


class AccountChange(msgspec.Struct, frozen=True, kw_only=True):
    """None leaves a field as it is."""

    email: str | None = None
    display_name: str | None = None
    role: Role | None = None
    active: bool | None = None
    locations: list[str] | None = None


class SsoIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """What the identity provider vouches for; role and locations come from its claims."""

    subject: str
    email: str | None
    email_verified: bool
    display_name: str
    role: Role
    locations: list[str]


# Deliverability is the mail server's business; this only keeps obvious typos out.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


def normalise_email(raw: str) -> str:
    """Staff emails are stored and compared lower-case: people type them either way."""
    return raw.strip().lower()


def _visible(actor: Staff, target: StaffAccount) -> bool:
    return actor.role is Role.ADMIN or not actor.location_slugs.isdisjoint(target.location_slugs)


def _check_manages(actor: Staff, target: StaffAccount) -> None:
    if actor.role is Role.ADMIN:
        return
    if (
        target.role == Role.ADMIN
        or not target.location_slugs
        or not set(target.location_slugs) <= actor.location_slugs
    ):
        raise Forbidden("Only an admin can change staff who also work at other locations.")


def _check_grants(actor: Staff, role: Role, locations: list[str]) -> None:
    if actor.role is Role.ADMIN:
        return
    if role is Role.ADMIN:
        raise Forbidden("Only an admin can make someone an admin.")
    if not locations:
        raise InvalidInput.field("locations", "name at least one of your locations")
    outside = set(locations) - actor.location_slugs
    if outside:
        raise Forbidden(f"You do not administer {', '.join(sorted(outside))}.")


async def _location_ids(conn: Connection, slugs: list[str]) -> list[int]:
    found = await q.location_ids(conn, slugs)
    unknown = sorted(set(slugs) - found.keys())
    if unknown:
        raise InvalidInput.field("locations", f"no such location: {', '.join(unknown)}")
    return sorted(found.values())


async def _reloaded(conn: Connection, user_id: int) -> StaffAccount:
    account = await q.account_by_id(conn, user_id)
    assert account is not None
    return account


async def visible_accounts(
    conn: Connection, actor: Staff, *, location: str | None, role: Role | None,
    active: bool | None,
) -> list[StaffAccount]:  # fmt: skip
    sharing = None if actor.role is Role.ADMIN else sorted(actor.location_slugs)
    return await q.accounts(
        conn, sharing=sharing, location=location, role=role and role.value, active=active
    )


async def visible_account(conn: Connection, actor: Staff, user_id: int) -> StaffAccount:
    account = await q.account_by_id(conn, user_id)
    if account is None or not _visible(actor, account):
        raise NotFound("No such staff user.")
    return account


async def create_account(
    conn: Connection, granted_by: Staff | None, new: NewAccount, locations: list[str]
) -> StaffAccount:
    """``granted_by`` None: the command line, which may create anyone."""
    actor = SYSTEM
    if granted_by is not None:
        _check_grants(granted_by, Role(new.role), locations)
        actor = granted_by.actor
    location_ids = await _location_ids(conn, locations)
    user_id = await q.insert_account(conn, new)
    await q.set_locations(conn, user_id, location_ids)
    await record(
        conn, actor, "staff.create", "staff_user", user_id, None,
        {"role": new.role, "locations": sorted(locations)},
    )  # fmt: skip
    return await _reloaded(conn, user_id)


async def create_admin(
    conn: Connection, email: str, display_name: str, password: str
) -> StaffAccount:
    """``booking create-admin``: the first admin, before anyone can sign in to make one."""
    if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > 254:
        raise InvalidInput.field("email", "is not an email address")
    passwords.check_policy(password)
    new = NewAccount(
        email=email,
        display_name=display_name,
        role=Role.ADMIN.value,
        password_hash=passwords.hash_password(password),
    )
    return await create_account(conn, None, new, [])


async def change_account(
    conn: Connection, actor: Staff, user_id: int, change: AccountChange
) -> StaffAccount:
    target = await q.lock_account(conn, user_id)
    if target is None or not _visible(actor, target):
        raise NotFound("No such staff user.")
    _check_manages(actor, target)
    role = change.role or Role(target.role)
    active = target.active if change.active is None else change.active
    locations = target.location_slugs if change.locations is None else change.locations
    if target.id == actor.id and (role != target.role or not active):
        raise Forbidden("You cannot change your own role or deactivate yourself.")
    if role != target.role or change.locations is not None:
        _check_grants(actor, role, locations)
    if target.role == Role.ADMIN and target.active and (role is not Role.ADMIN or not active):
        others = [admin for admin in await q.lock_active_admin_ids(conn) if admin != target.id]
        if not others:
            raise Conflict("The last active admin must stay an active admin.")
    await q.update_account(
        conn,
        target.id,
        email=change.email or target.email,
        display_name=target.display_name if change.display_name is None else change.display_name,
        role=role.value,
        active=active,
    )
    if change.locations is not None:
        await q.set_locations(conn, target.id, await _location_ids(conn, change.locations))
    fields = sorted(
        name for name, value in msgspec.structs.asdict(change).items() if value is not None
    )
    await record(
        conn, actor.actor, "staff.update", "staff_user", target.id, None, {"fields": fields}
    )
    return await _reloaded(conn, target.id)


async def reset_password(conn: Connection, actor: Staff, user_id: int, password: str | None) -> str:
    """The new password (generated when none is given); the user's sessions and tokens end."""
    target = await q.lock_account(conn, user_id)
    if target is None or not _visible(actor, target):
        raise NotFound("No such staff user.")
    _check_manages(actor, target)
    if password is None:
        password = passwords.generated_password()
    else:
        passwords.check_policy(password)
    await q.reset_password(conn, target.id, await passwords.hash_password_async(password))
    await record(conn, actor.actor, "staff.password_reset", "staff_user", target.id, None)
    return password


async def sso_sign_in(conn: Connection, identity: SsoIdentity) -> StaffAccount:
    """The account for this identity, created or linked on first sign-in; role and locations
    follow the identity provider at every sign-in."""
    account = await q.account_by_oidc_subject(conn, identity.subject)
    if account is None and identity.email is not None and identity.email_verified:
        account = await q.account_by_email(conn, identity.email)
        if account is not None and account.sso:
            raise Conflict("This email belongs to a different single sign-on identity.")
        if account is not None:
            await q.link_oidc_subject(conn, account.id, identity.subject)
    if account is None:
        if identity.email is None:
            raise Forbidden("The identity provider sent no email address.")
        new = NewAccount(
            email=identity.email,
            display_name=identity.display_name,
            role=identity.role.value,
            oidc_subject=identity.subject,
        )
        account = await _reloaded(conn, await q.insert_account(conn, new))
        await record(
            conn, SYSTEM, "staff.create", "staff_user", account.id, None,
            {"role": new.role, "method": "oidc"},
        )  # fmt: skip
    if not account.active:
        raise Forbidden("This staff account is deactivated.")
    await q.update_account(
        conn, account.id, email=account.email,
        display_name=identity.display_name or account.display_name,
        role=identity.role.value, active=True,
    )  # fmt: skip
    found = await q.location_ids(conn, identity.locations)
    await q.set_locations(conn, account.id, sorted(found.values()))
    await record(
        conn, Actor("staff", account.id), "login", "staff_user", account.id, None,
        {"method": "oidc", "role": identity.role.value, "locations": sorted(found)},
    )  # fmt: skip
    return await _reloaded(conn, account.id)
