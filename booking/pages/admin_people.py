"""Staff accounts: who may see, create and change whom is ``booking.auth.accounts``'s.

Admins manage everyone; location admins the staff of their own locations (the use case
refuses the rest, and the page says so). A password set here is never shown again.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking.api import admin_users as users_api
from booking.api.admin_users import PasswordIn, UserIn, UserPatch
from booking.api.dependencies import Transaction
from booking.auth import accounts
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.staff import StaffAccount
from booking.errors import BookingError
from booking.i18n import N_
from booking.pages.admin_errors import AdminPages
from booking.pages.admin_forms import (
    AnyRequest,
    Problems,
    admin_page,
    attempt,
    changed,
    checkbox,
    converted,
    done,
    problems_of,
    status_message,
)

DONE = {
    "created": N_("The staff member is added. They can sign in now."),
    "saved": N_("The staff member is saved."),
    "password": N_("The new password is set. The staff member's sessions have ended."),
}
MESSAGES = {
    "email": N_("Enter an email address, like name@example.org."),
    "email:conflict": N_("A staff member with this email address exists already."),
    "display_name": N_("Enter a name of at most 200 characters, on one line."),
    "role": N_("Choose a role."),
    "locations": N_("Choose at least one of your locations."),
    "password": N_("Enter a password of at least 12 characters."),
    "forbidden": N_("You cannot grant this role or these locations, or change this person."),
    "role_required": N_("You cannot grant this role or these locations, or change this person."),
    "conflict": N_("The last active admin must stay an active admin."),
}
Values = dict[str, Any]


def _sent(form: Any, *, new: bool) -> Values:
    values: Values = {
        "email": str(form.get("email", "")).strip(),
        "display_name": str(form.get("display_name", "")).strip(),
        "role": str(form.get("role", "")),
        "locations": [str(slug) for slug in form.getall("locations", [])],
    }
    if new:
        values["password"] = str(form.get("password", "")) or None
    else:
        values["active"] = checkbox(form, "active")
    return values


def _shown(account: StaffAccount) -> Values:
    return {
        "email": account.email, "display_name": account.display_name, "role": account.role,
        "locations": account.location_slugs, "active": str(account.active).lower(),
    }  # fmt: skip


async def _locations(db: Connection, staff: Staff) -> list[Any]:
    """The locations this person may grant: all for admins, their own otherwise."""
    return [loc for loc in await q.all_locations(db) if staff.works_at(loc.slug)]


def _roles(staff: Staff) -> list[Role]:
    return [
        role for role in (Role.DESK, Role.LOCATION_ADMIN, Role.ADMIN) if staff.role.includes(role)
    ]


class PeoplePages(AdminPages):
    path = "/users"
    guards = [requires(Role.LOCATION_ADMIN)]  # noqa: RUF012 - as the API's UserController

    async def _form(
        self, request: AnyRequest, db: Connection, staff: Staff, account: StaffAccount | None,
        values: Values, *, problems: Problems | None = None, status: int = 200,
    ) -> Template:  # fmt: skip
        return admin_page(
            request, "admin/user.html", staff,
            {"account": account, "section": "users", "values": values,
             "locations": await _locations(db, staff), "roles": _roles(staff),
             "problems": problems or {},
             "done": None if problems else status_message(request, DONE)},
            status=status,
        )  # fmt: skip

    @get("/")
    async def users(self, request: AnyRequest, db: Transaction, staff: CurrentStaff) -> Template:
        found = await accounts.visible_accounts(db, staff, location=None, role=None, active=None)
        return admin_page(
            request, "admin/users.html", staff,
            {"accounts": found, "section": "users", "done": status_message(request, DONE)},
        )  # fmt: skip

    @get("/new")
    async def new(self, request: AnyRequest, db: Transaction, staff: CurrentStaff) -> Template:
        values = {"email": "", "display_name": "", "role": "desk", "locations": []}
        return await self._form(request, db, staff, None, values)

    @post("/")
    async def create(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff
    ) -> Template | Redirect:
        values = _sent(await request.form(), new=True)
        try:
            data = converted(UserIn, values)
            account = await attempt(db, lambda: users_api.create_user(db, staff, data))
        except BookingError as error:
            if error.status not in {403, 409, 422}:
                raise
            problems = problems_of(error, MESSAGES)
            return await self._form(
                request, db, staff, None, values | {"password": ""}, problems=problems,
                status=error.status,
            )  # fmt: skip
        return done(f"/admin/users/{account.id}", "created")

    @get("/{user_id:int}")
    async def edit(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, user_id: FromPath[int]
    ) -> Template:
        account = await accounts.visible_account(db, staff, user_id)
        return await self._form(request, db, staff, account, _shown(account))

    @post("/{user_id:int}")
    async def save(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, user_id: FromPath[int]
    ) -> Template | Redirect:
        account = await accounts.visible_account(db, staff, user_id)
        values = _sent(await request.form(), new=False)
        try:
            sent = converted(UserPatch, values)
            stored = SimpleNamespace(
                **_shown(account) | {"active": account.active,
                                     "email": accounts.normalise_email(account.email)},
            )  # fmt: skip
            patch = changed(sent, stored)
            if sorted(patch.get("locations", account.location_slugs)) == sorted(
                account.location_slugs
            ):
                patch.pop("locations", None)
            change = UserPatch(**patch)
            await attempt(db, lambda: users_api.update_user(db, staff, user_id, change))
        except BookingError as error:
            if error.status not in {403, 409, 422}:
                raise
            problems = problems_of(error, MESSAGES)
            return await self._form(
                request, db, staff, account, values, problems=problems, status=error.status
            )
        return done(f"/admin/users/{user_id}", "saved")

    @post("/{user_id:int}/password")
    async def reset_password(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, user_id: FromPath[int]
    ) -> Template | Redirect:
        """A chosen password: the user's sessions and tokens end, as with the API's reset."""
        account = await accounts.visible_account(db, staff, user_id)
        password = str((await request.form()).get("password", ""))
        try:
            data = converted(PasswordIn, {"password": password})
            chosen = data.password or ""
            await attempt(db, lambda: accounts.reset_password(db, staff, user_id, chosen))
        except BookingError as error:
            if error.status not in {403, 422}:
                raise
            problems = (
                {"password": MESSAGES["password"]}
                if error.status == 422
                else {"form": MESSAGES["forbidden"]}
            )
            return await self._form(
                request, db, staff, account, _shown(account), problems=problems,
                status=error.status,
            )  # fmt: skip
        return done(f"/admin/users/{user_id}", "password")
