"""The demo logins and device tokens that ``booking dev`` seeds and prints work as printed."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.demo import DEMO_DEVICES, DEMO_LOGINS, DEMO_PASSWORD, seed_demo, seed_demo_access


async def test_every_demo_login_and_device_works_and_seeding_twice_adds_nothing(
    db: asyncpg.Connection, client: AsyncTestClient[Litestar]
) -> None:
    await seed_demo(db, datetime(2026, 6, 1, tzinfo=UTC))
    first = await seed_demo_access(db)
    again = await seed_demo_access(db)
    assert first.endswith(f"({len(DEMO_LOGINS) + len(DEMO_DEVICES)} new)")
    assert again.endswith("(0 new)")
    for login in DEMO_LOGINS:
        answer = await client.post(
            "/api/v1/auth/login", json={"email": login.email, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        assert (answer.json()["role"], answer.json()["locations"]) == (
            login.role.value, list(login.locations),
        )  # fmt: skip
    kinds = await db.fetch(
        "select l.slug, d.kind from device d join location l on l.id = d.location_id"
    )
    assert {(r["slug"], r["kind"]) for r in kinds} == {
        (d.location, d.kind.value) for d in DEMO_DEVICES
    }
    assert len(kinds) == len(DEMO_DEVICES)
