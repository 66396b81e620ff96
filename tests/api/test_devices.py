"""Kiosks and display boards: registered per location, tokens kept as hashes, revocable,
and a device acts only for its own location and only as its own kind (invariant 6).

The kiosk and display routes themselves come with later issues; probe routes declared
exactly as those will be (``requires_device``) stand in for them here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.auth.guards import CurrentDevice, requires_device
from booking.auth.principals import DeviceKind
from booking.db import catalogue
from booking.db.catalogue import NewLocation
from booking.settings import Settings

Client = AsyncTestClient[Litestar]
DEVICES = "/api/v1/admin/locations/{}/devices"


class Acting(msgspec.Struct, frozen=True):
    device: int
    location_id: int
    kind: str


@post("/probe/kiosk/tickets", guards=[requires_device(DeviceKind.KIOSK)], status_code=200)
async def kiosk_action(device: CurrentDevice) -> Acting:
    return Acting(device.id, device.location_id, device.kind)


@get("/probe/locations/{slug:str}/display", guards=[requires_device(DeviceKind.DISPLAY,
                                                                     location="slug")])  # fmt: skip
async def display_board(device: CurrentDevice, slug: FromPath[str]) -> Acting:
    return Acting(device.id, device.location_id, device.kind)


@post("/probe/locations/{slug:str}/check-in", guards=[requires_device(DeviceKind.KIOSK,
                                                                       location="slug")],
      status_code=200)  # fmt: skip
async def kiosk_here(device: CurrentDevice, slug: FromPath[str]) -> Acting:
    return Acting(device.id, device.location_id, device.kind)


@pytest.fixture
async def client(settings: Settings, redis: Redis, db: asyncpg.Connection) -> AsyncIterator[Client]:
    for slug in ("mitte", "nord"):
        await catalogue.insert_location(db, NewLocation(slug=slug, name_de=slug, name_en=slug))
    app = create_app(settings)
    for probe in (kiosk_action, display_board, kiosk_here):
        app.register(probe)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def admin(staff_token: Callable[..., Awaitable[str]]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('location_admin', ['mitte', 'nord'])}"}


async def register(
    client: Client, admin: dict[str, str], slug: str, kind: str, name: str = "Eingang"
) -> dict[str, Any]:
    answer = await client.post(DEVICES.format(slug), json={"kind": kind, "name": name},
                               headers=admin)  # fmt: skip
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def device(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_registering_shows_the_token_once_and_stores_only_its_hash(
    client: Client, admin: dict[str, str], db: asyncpg.Connection
) -> None:
    kiosk = await register(client, admin, "mitte", "kiosk")
    assert re.fullmatch(r"bkd_[A-Za-z0-9_-]{43}", kiosk["token"])
    stored = await db.fetchrow("select token_hash from device where id = $1", kiosk["id"])
    assert stored is not None
    assert bytes(stored["token_hash"]) == hashlib.sha256(kiosk["token"].encode()).digest()
    everything = str(await db.fetch("select * from device")) + str(
        await db.fetch("select * from audit_log")
    )
    assert kiosk["token"] not in everything
    listed = (await client.get(DEVICES.format("mitte"), headers=admin)).json()
    assert listed == [{k: v for k, v in kiosk.items() if k != "token"}]
    assert (await client.get(DEVICES.format("nord"), headers=admin)).json() == []


async def test_a_device_acts_only_for_its_own_location_and_as_its_own_kind(
    client: Client, admin: dict[str, str], db: asyncpg.Connection
) -> None:
    kiosk = await register(client, admin, "mitte", "kiosk")
    board = await register(client, admin, "mitte", "display", "Wartebereich")
    mitte = await db.fetchval("select id from location where slug = 'mitte'")

    acting = await client.post("/probe/kiosk/tickets", headers=device(kiosk["token"]))
    assert acting.json() == {"device": kiosk["id"], "location_id": mitte, "kind": "kiosk"}
    here = await client.post("/probe/locations/mitte/check-in", headers=device(kiosk["token"]))
    assert here.status_code == 200
    shown = await client.get("/probe/locations/mitte/display", headers=device(board["token"]))
    assert shown.json()["kind"] == "display"

    elsewhere = await client.post("/probe/locations/nord/check-in", headers=device(kiosk["token"]))
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "wrong_location")
    board_elsewhere = await client.get(
        "/probe/locations/nord/display", headers=device(board["token"])
    )
    assert (board_elsewhere.status_code, board_elsewhere.json()["code"]) == (403, "wrong_location")
    display_as_kiosk = await client.post("/probe/kiosk/tickets", headers=device(board["token"]))
    assert (display_as_kiosk.status_code, display_as_kiosk.json()["code"]) == (403, "wrong_device")
    kiosk_as_display = await client.get(
        "/probe/locations/mitte/display", headers=device(kiosk["token"])
    )
    assert kiosk_as_display.status_code == 403


async def test_a_revoked_device_is_locked_out_at_once(
    client: Client, admin: dict[str, str], db: asyncpg.Connection
) -> None:
    kiosk = await register(client, admin, "mitte", "kiosk")
    other = await register(client, admin, "mitte", "kiosk", "Zweiter Eingang")
    url = f"{DEVICES.format('mitte')}/{kiosk['id']}"
    assert (await client.delete(f"{DEVICES.format('nord')}/{kiosk['id']}", headers=admin)
            ).status_code == 404  # fmt: skip
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.delete(url, headers=admin)).status_code == 204  # again: no harm

    revoked = await client.post("/probe/kiosk/tickets", headers=device(kiosk["token"]))
    assert (revoked.status_code, revoked.json()["code"]) == (401, "unauthorized")
    assert (await client.post("/probe/kiosk/tickets", headers=device(other["token"]))
            ).status_code == 200  # fmt: skip
    listed = {d["id"]: d["revoked_at"] for d in
              (await client.get(DEVICES.format("mitte"), headers=admin)).json()}  # fmt: skip
    assert listed[kiosk["id"]] is not None
    assert listed[other["id"]] is None
    actions = await db.fetch(
        "select action, object_id from audit_log where object_kind = 'device' order by id"
    )
    assert [(r["action"], r["object_id"]) for r in actions] == [
        ("device.register", str(kiosk["id"])),
        ("device.register", str(other["id"])),
        ("device.revoke", str(kiosk["id"])),
    ]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer bkd_made-up"}, {"Authorization": "Basic a2lvc2s="}],
)
async def test_without_a_device_token_nothing_happens(
    client: Client, headers: dict[str, str]
) -> None:
    answer = await client.post("/probe/kiosk/tickets", headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")


async def test_a_staff_token_is_no_device_token(client: Client, admin: dict[str, str]) -> None:
    answer = await client.post("/probe/kiosk/tickets", headers=admin)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"kind": "printer", "name": "x"}, {"kind": "kiosk"}, {"kind": "kiosk", "name": ""},
     {"kind": "kiosk", "name": "x", "location": "nord"}, {"kind": "kiosk", "name": "a\x00b"}],
)  # fmt: skip
async def test_bad_device_input_gets_a_4xx(
    client: Client, admin: dict[str, str], body: dict[str, Any], db: asyncpg.Connection
) -> None:
    answer = await client.post(DEVICES.format("mitte"), json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert await db.fetchval("select count(*) from device") == 0
    missing = await client.post(DEVICES.format("atlantis"), json=body, headers=admin)
    assert missing.status_code in {403, 422}  # not their location, whatever the body
