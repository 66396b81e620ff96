"""``/api/v1/staff``: routes for signed-in staff; for now who am I, and my API tokens.

Every route under ``staff_router`` needs a signed-in staff member; a route that declares no
role of its own needs an admin, so a forgotten guard fails closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Router, delete, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from booking.api.admin_common import LINE_PATTERN
from booking.api.dependencies import Transaction
from booking.api.staff_queue import QueueController
from booking.auth.guards import CurrentStaff, requires, staff_area
from booking.auth.principals import Role, Staff
from booking.auth.tokens import issue_api_token
from booking.db import staff as q
from booking.db.audit import record
from booking.db.staff import ApiToken
from booking.errors import Forbidden, NotFound

# Both ways of signing in, as the OpenAPI document describes them.
SECURITY: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]

TokenName = Annotated[str, Meta(min_length=1, max_length=100, pattern=LINE_PATTERN)]


class SessionRequired(Forbidden):
    code = "session_required"


class MeOut(msgspec.Struct, frozen=True, kw_only=True):
    """``csrf_token`` goes into the X-CSRF-Token header of every cookie-authenticated change."""

    id: int
    email: str
    display_name: str
    role: Role
    locations: list[str]
    signed_in_with: Literal["session", "token"]
    csrf_token: str | None


class TokenIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: TokenName


class TokenOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut, frozen=True, kw_only=True):
    """``token`` is shown this once; only its hash is kept."""

    token: str


def me_out(staff: Staff) -> MeOut:
    return MeOut(
        id=staff.id,
        email=staff.email,
        display_name=staff.display_name,
        role=staff.role,
        locations=sorted(staff.location_slugs),
        signed_in_with="token" if staff.session is None else "session",
        csrf_token=None if staff.session is None else staff.session.csrf_token,
    )


def _token_out(token: ApiToken) -> TokenOut:
    return msgspec.convert(token, TokenOut, from_attributes=True)


class MeController(Controller):
    guards = [requires(Role.DESK)]  # noqa: RUF012 - Litestar's layered attribute

    @get("/me")
    async def me(self, staff: CurrentStaff) -> MeOut:
        return me_out(staff)

    @get("/tokens")
    async def list_tokens(self, db: Transaction, staff: CurrentStaff) -> list[TokenOut]:
        return [_token_out(token) for token in await q.api_tokens(db, staff.id)]

    @post("/tokens")
    async def create_token(
        self, db: Transaction, staff: CurrentStaff, data: JSONBody[TokenIn]
    ) -> NewTokenOut:
        # A leaked token must not be able to mint more of itself.
        if staff.session is None:
            raise SessionRequired("API tokens are created from a signed-in browser session.")
        token, secret = await issue_api_token(db, staff.actor, staff.id, data.name)
        return NewTokenOut(**msgspec.structs.asdict(_token_out(token)), token=secret)

    @delete("/tokens/{token_id:int}")
    async def revoke_token(
        self, db: Transaction, staff: CurrentStaff, token_id: FromPath[int]
    ) -> None:
        found = await q.revoke_api_token(db, staff.id, token_id)
        if found is None:
            raise NotFound("You have no API token with that id.")
        if found[1]:
            await record(db, staff.actor, "api_token.revoke", "api_token", token_id, None)


staff_router = Router(
    path="/api/v1/staff",
    route_handlers=[MeController, QueueController],
    guards=[staff_area(Role.ADMIN)],
    security=SECURITY,
    tags=["staff"],
)
