"""Admins maintain locations, services and which location offers what, through the API."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
ADMIN = "/api/v1/admin"
MITTE = {"slug": "mitte", "name_de": "Bürgeramt Mitte", "name_en": "Citizens' Office Centre"}
PASS = {"slug": "reisepass", "name_de": "Reisepass", "name_en": "Passport", "duration_minutes": 20}


@pytest.fixture
def client(admin_client: Client) -> Client:
    """Everything here is done by an admin; tests/test_route_guards.py covers everyone else."""
    return admin_client


async def create(client: Client, what: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(f"{ADMIN}/{what}", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_a_new_location_gets_the_schema_defaults_and_is_listed_even_when_inactive(
    client: Client,
) -> None:
    mitte = await create(client, "locations", MITTE)
    assert mitte["time_zone"] == "Europe/Berlin"
    assert (mitte["grid_minutes"], mitte["horizon_days"], mitte["active"]) == (10, 60, True)
    await create(
        client,
        "locations",
        {"slug": "alt", "name_de": "Altes Amt", "name_en": "Old office", "active": False,
         "time_zone": "Europe/Vienna", "allocation_mode": "lottery", "phone": "+49 30 1234-0"},
    )  # fmt: skip
    listed = (await client.get(f"{ADMIN}/locations")).json()
    assert [(loc["slug"], loc["active"]) for loc in listed] == [("alt", False), ("mitte", True)]
    assert "poster_secret" not in listed[0]


async def test_patch_changes_only_the_fields_sent(client: Client) -> None:
    before = await create(client, "locations", {**MITTE, "city": "Musterstadt", "phone": "110"})
    answer = await client.patch(
        f"{ADMIN}/locations/mitte", json={"name_en": "Centre", "min_lead_minutes": 0}
    )
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["grid"] is None  # nothing that shapes the grid changed
    assert after["location"] == {**before, "name_en": "Centre", "min_lead_minutes": 0}
    listed = (await client.get(f"{ADMIN}/locations")).json()
    assert listed == [after["location"]]


async def test_renaming_a_slug_moves_the_location(client: Client) -> None:
    await create(client, "locations", MITTE)
    renamed = await client.patch(f"{ADMIN}/locations/mitte", json={"slug": "zentrum"})
    assert renamed.json()["location"]["slug"] == "zentrum"
    assert (await client.patch(f"{ADMIN}/locations/mitte", json={})).status_code == 404
    assert (await client.patch(f"{ADMIN}/locations/zentrum", json={})).status_code == 200


async def test_duplicate_slugs_are_conflicts(client: Client) -> None:
    await create(client, "locations", MITTE)
    await create(client, "locations", {**MITTE, "slug": "nord"})
    again = await client.post(f"{ADMIN}/locations", json=MITTE)
    assert again.status_code == 409
    assert again.json() == {
        "status": 409,
        "code": "conflict",
        "message": "slug: A location with this slug exists already.",
        "details": [{"field": "slug", "message": "A location with this slug exists already."}],
    }
    renamed = await client.patch(f"{ADMIN}/locations/nord", json={"slug": "mitte"})
    assert renamed.status_code == 409
    await create(client, "services", PASS)
    assert (await client.post(f"{ADMIN}/services", json=PASS)).status_code == 409


async def test_unknown_slugs_are_not_found(client: Client) -> None:
    answer = await client.patch(f"{ADMIN}/locations/nirgendwo", json={"city": "X"})
    assert answer.status_code == 404
    assert answer.json() == {
        "status": 404, "code": "not_found", "message": "No such location.", "details": []
    }  # fmt: skip
    assert (await client.patch(f"{ADMIN}/services/nichts", json={})).status_code == 404
    assert (await client.get(f"{ADMIN}/locations/nirgendwo/services")).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name_de": ""}, "name_de"),
        ({"name_en": "x" * 201}, "name_en"),
        ({"name_de": "Amt\u0000"}, "name_de"),
        ({"slug": "Mitte"}, "slug"),
        ({"slug": "-mitte"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"grid_minutes": 10**30}, "grid_minutes"),
        ({"grid_minutes": 3}, "grid_minutes"),
        ({"grid_minutes": "ten"}, "grid_minutes"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 10_000}, "horizon_days"),
        ({"min_lead_minutes": -1}, "min_lead_minutes"),
        ({"cancel_deadline_minutes": 2**40}, "cancel_deadline_minutes"),
        ({"requires_confirmation": "maybe"}, "requires_confirmation"),
        ({"allocation_mode": "random"}, "allocation_mode"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"email": "not an address"}, "email"),
        ({"phone": "call me"}, "phone"),
    ],
)
async def test_bad_location_values_are_rejected_and_create_nothing(
    client: Client, change: dict[str, Any], field: str
) -> None:
    answer = await client.post(f"{ADMIN}/locations", json={**MITTE, **change})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid_input"
    assert [problem["field"] for problem in body["details"]] == [field]
    assert (await client.get(f"{ADMIN}/locations")).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"time_zone": "Mars/Olympus"},
        {"name_de": None},
        {"grid_minutes": 0},
        {"timezone": "UTC"},  # a typo must not be silently ignored
        ["name_de", "x"],
        "mitte",
        None,
    ],
)
async def test_bad_patches_are_rejected_and_change_nothing(client: Client, body: object) -> None:
    before = await create(client, "locations", MITTE)
    answer = await client.patch(f"{ADMIN}/locations/mitte", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_input"
    assert (await client.get(f"{ADMIN}/locations")).json() == [before]


async def test_services_are_created_listed_and_patched_field_by_field(client: Client) -> None:
    created = await create(
        client,
        "services",
        {**PASS, "documents_de": ["Passfoto", "Alter Pass"], "documents_en": ["Photo", "Old"],
         "leika_id": "99088001000000", "queue_prefix": "P"},
    )  # fmt: skip
    assert created["description_de"] == ""
    assert created["active"] is True
    answer = await client.patch(f"{ADMIN}/services/reisepass", json={"duration_minutes": 25})
    assert answer.json() == {**created, "duration_minutes": 25}
    cleared = await client.patch(
        f"{ADMIN}/services/reisepass", json={"leika_id": None, "active": False}
    )
    assert cleared.json() == {**created, "duration_minutes": 25, "leika_id": None, "active": False}
    assert (await client.get(f"{ADMIN}/services")).json() == [cleared.json()]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"queue_prefix": "a"}, "queue_prefix"),
        ({"queue_prefix": "AB"}, "queue_prefix"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"duration_minutes": 2.5}, "duration_minutes"),
        ({"documents_de": [""]}, "documents_de[0]"),
        ({"documents_de": "Passfoto"}, "documents_de"),
        ({"documents_en": ["x"] * 31}, "documents_en"),
        ({"leika_id": ""}, "leika_id"),
        ({"description_de": "x\u0000y"}, "description_de"),
    ],
)
async def test_bad_service_values_are_rejected(
    client: Client, change: dict[str, Any], field: str
) -> None:
    answer = await client.post(f"{ADMIN}/services", json={**PASS, **change})
    assert answer.status_code == 422, answer.text
    assert [problem["field"] for problem in answer.json()["details"]] == [field]
    assert (await client.get(f"{ADMIN}/services")).json() == []


async def test_a_location_offers_a_service_with_its_own_duration(
    client: Client, db: asyncpg.Connection
) -> None:
    await create(client, "locations", MITTE)
    await create(client, "services", PASS)
    path = f"{ADMIN}/locations/mitte/services/reisepass"
    offered = await client.put(path, json={"duration_minutes": 30})
    assert offered.status_code == 200, offered.text
    assert offered.json() == {
        "service": "reisepass", "duration_minutes": 30, "default_duration_minutes": 20,
        "bookable_online": True,
    }  # fmt: skip
    # PUT replaces the whole setting: leaving the duration out returns to the default.
    counter_only = await client.put(path, json={"bookable_online": False})
    assert counter_only.json()["duration_minutes"] is None
    assert counter_only.json()["bookable_online"] is False
    assert (await client.get(f"{ADMIN}/locations/mitte/services")).json() == [counter_only.json()]

    assert (await client.delete(path)).status_code == 204
    assert await db.fetchval("select count(*) from location_service") == 0
    assert (await client.delete(path)).status_code == 404
    unknown = await client.put(f"{ADMIN}/locations/mitte/services/nichts", json={})
    assert unknown.json()["message"] == "No such service."
    bad = await client.put(path, json={"duration_minutes": 0})
    assert bad.status_code == 422


async def test_admin_routes_are_documented_under_one_tag(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    admin_paths = {path: ops for path, ops in schema["paths"].items() if path.startswith(ADMIN)}
    assert f"{ADMIN}/locations/{{slug}}/opening-rules/{{rule_id}}" in admin_paths
    tags = {tag for ops in admin_paths.values() for op in ops.values() for tag in op["tags"]}
    assert tags == {"admin"}
