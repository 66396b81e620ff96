"""Every staff-only route refuses anonymous callers (401) and the wrong role or location (403).

The routes come from the OpenAPI document, so a route added under a staff-only prefix is
covered without touching this file. What a route needs is read from its own guards
(``booking.auth.guards.requirements``); the test then sends callers who just miss it, and
one who just meets it and must get past the guard.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from booking.auth.guards import Requirement, requirements
from booking.auth.principals import Role
from booking.db import catalogue
from booking.db.catalogue import NewLocation

Client = AsyncTestClient[Litestar]
# The staff-only part of the API; everything else is public or guarded by other secrets.
STAFF_ONLY = ("/api/v1/admin", "/api/v1/staff")
METHODS = ("get", "post", "put", "patch", "delete")
GUARD_CODES = {"unauthorized", "role_required", "wrong_location"}


class Operation:
    def __init__(self, method: str, path: str, spec: dict[str, Any], needs: Requirement) -> None:
        self.method, self.path, self.needs = method, path, needs
        self.params = {
            p["name"]: p.get("schema", {}).get("type") for p in spec.get("parameters", [])
            if p.get("in") == "path"
        }  # fmt: skip

    def url(self) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in {self.needs.location, "slug"}:
                return "mitte"
            return "1" if self.params.get(name) == "integer" else "x"

        return re.sub(r"\{(\w+)\}", value, self.path)

    def __repr__(self) -> str:
        return f"{self.method} {self.path}"


def _handlers(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    found = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(STAFF_ONLY):
            path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
            for handler in route.route_handlers:
                # Litestar's automatic OPTIONS handlers are not documented (and 401 too).
                for method in handler.http_methods - {"OPTIONS"}:
                    found[method.upper(), path] = handler
    return found


def _strongest(needs: list[Requirement]) -> Requirement:
    """All guards of a route must pass, so the highest role and any location apply."""
    role = next(r for r in (Role.ADMIN, Role.LOCATION_ADMIN, Role.DESK) if any(
        n.role is r for n in needs))  # fmt: skip
    return Requirement(role, next((n.location for n in needs if n.location), None))


async def operations(client: Client) -> list[Operation]:
    schema = (await client.get("/schema/openapi.json")).json()
    handlers = _handlers(client.app)
    documented = {
        (method.upper(), path): spec
        for path, item in schema["paths"].items() if path.startswith(STAFF_ONLY)
        for method, spec in item.items() if method in METHODS
    }  # fmt: skip
    # A route left out of the schema would escape this test; there is none.
    assert set(documented) == set(handlers)
    found = []
    for (method, path), spec in sorted(documented.items()):
        needs = requirements(handlers[method, path])
        assert needs, f"{method} {path} has no staff guard"
        found.append(Operation(method, path, spec, _strongest(needs)))
    return found


@pytest.fixture
async def callers(
    db: asyncpg.Connection, staff_token: Callable[..., Awaitable[str]]
) -> dict[str, dict[str, str]]:
    for slug in ("mitte", "nord"):
        await catalogue.insert_location(db, NewLocation(slug=slug, name_de=slug, name_en=slug))
    people = {
        "admin": ("admin", []),
        "location admin here": ("location_admin", ["mitte"]),
        "location admin there": ("location_admin", ["nord"]),
        "desk here": ("desk", ["mitte"]),
        "desk there": ("desk", ["nord"]),
    }
    return {
        name: {"Authorization": f"Bearer {await staff_token(role, locations)}"}
        for name, (role, locations) in people.items()
    }


def refused(needs: Requirement) -> dict[str, str]:
    """Callers who just miss ``needs``, and the refusal each must get."""
    wrong: dict[str, str] = {}
    if needs.role is Role.ADMIN:
        wrong["location admin here"] = "role_required"
    if needs.role is Role.LOCATION_ADMIN:
        wrong["desk here"] = "role_required"
    if needs.location is not None:
        wrong[f"{needs.role.value.replace('_', ' ')} there"] = "wrong_location"
    return wrong


def admitted(needs: Requirement) -> str:
    if needs.role is Role.ADMIN:
        return "admin"
    return f"{needs.role.value.replace('_', ' ')} here"


JUNK = (b"", b"{}", b"[1, 2]", b'"\\u0000"', b'{"slug": null}', b"\xff not json")

ANONYMOUS = {
    "nobody": {},
    "a made-up token": {"Authorization": "Bearer bkt_not-a-real-token"},
    "another scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "a made-up session": {"Cookie": "booking_session=made-up"},
}


async def test_every_staff_route_refuses_anonymous_and_wrong_callers(
    client: Client, callers: dict[str, dict[str, str]]
) -> None:
    found = await operations(client)
    assert len(found) >= 30  # catalogue, hours, users, devices, audit, staff/me ...
    for op in found:
        for who, headers in ANONYMOUS.items():
            answer = await client.request(op.method, op.url(), headers=headers)
            assert answer.status_code == 401, (op, who, answer.text)
            assert answer.json()["code"] == "unauthorized", (op, who)
            assert answer.headers["www-authenticate"] == "Bearer"
        for who, code in refused(op.needs).items():
            answer = await client.request(op.method, op.url(), headers=callers[who])
            assert answer.status_code == 403, (op, who, answer.text)
            assert answer.json()["code"] == code, (op, who, answer.text)
        # Someone who meets the requirement gets past the guard, and odd input is a 4xx.
        for body in JUNK:
            answer = await client.request(
                op.method, op.url(), headers=callers[admitted(op.needs)], content=body
            )
            assert answer.status_code < 500, (op, body, answer.text)
            if answer.status_code in {401, 403}:
                assert answer.json()["code"] not in GUARD_CODES, (op, answer.text)


async def test_the_desk_role_cannot_change_opening_hours(
    client: Client, callers: dict[str, dict[str, str]]
) -> None:
    """Invariant 6, the example DESIGN.md gives."""
    rule = {"weekday": 1, "opens_at": "08:00", "closes_at": "12:00", "desks": 1}
    url = "/api/v1/admin/locations/mitte/opening-rules"
    refused_ = await client.post(url, json=rule, headers=callers["desk here"])
    assert refused_.status_code == 403
    allowed = await client.post(url, json=rule, headers=callers["location admin here"])
    assert allowed.status_code == 201, allowed.text
