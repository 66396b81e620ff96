"""Freed capacity under fire, on real PostgreSQL: cancellations, public bookings, declines and
several matchers at once never hand a place to two people, and never to the public while the
waitlist wants it (invariant 1 and the quarantine's promise)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import TypeVar

import asyncpg
import msgspec
import pytest

from booking import appointments, waitlist
from booking.appointments import Booking, BookingRequest, Context
from booking.db.pool import create_pool
from booking.db.transaction import in_transaction
from booking.demo import seed_demo
from booking.settings import Settings
from tests.waitlist_support import (
    NOW,
    PASS,
    assert_capacity_is_exact,
    at,
    book,
    offer_token,
    offers,
    wait,
)

T = TypeVar("T")
# Tuesday at mitte: one window 08:00-12:30 with four desks; passport appointments every
# 20 minutes fill it up to 12:20, and the last ten minutes fit no passport.
STARTS = [f"{8 + m // 60:02d}:{m % 60:02d}" for m in range(0, 4 * 60 + 1, 20)]
DESKS = 4
WAITING = 40


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    busy = await create_pool(msgspec.structs.replace(settings, db_pool_max=30))
    yield busy
    await busy.close()


async def storm(calls: list[Awaitable[T]]) -> list[T | BaseException]:
    """Everything at once, each outcome kept (a refusal is an outcome, not a failure)."""
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def public_booking(pool: asyncpg.Pool, settings: Settings, n: int) -> Booking:
    start = STARTS[n % len(STARTS)]
    request = BookingRequest(
        location="mitte",
        services=PASS,
        start=at(start),
        name="Schnell",
        email=f"quick-{n}@example.org",
    )
    return await in_transaction(
        pool, lambda conn: appointments.book(conn, Context(settings, NOW), request)
    )


async def cancel(pool: asyncpg.Pool, settings: Settings, booking: Booking) -> Booking:
    code, token = booking.appointment.code, booking.manage_token
    return await in_transaction(
        pool, lambda conn: appointments.cancel(conn, Context(settings, NOW), code, token)
    )


async def decline(pool: asyncpg.Pool, settings: Settings, code: str, token: str) -> Booking:
    return await in_transaction(
        pool, lambda conn: appointments.decline_offer(conn, Context(settings, NOW), code, token)
    )


async def matcher(pool: asyncpg.Pool, settings: Settings, seed: int) -> waitlist.Allocation:
    await asyncio.sleep(random.Random(seed).uniform(0, 0.05))
    return await waitlist.allocate(pool, settings, NOW, random.Random(seed))


def outcome_kinds(outcomes: Sequence[object]) -> Counter[str]:
    return Counter(type(o).__name__ for o in outcomes)


async def test_cancellations_bookings_declines_and_matchers_at_once_never_share_a_place(
    db: asyncpg.Connection, settings: Settings, pool: asyncpg.Pool
) -> None:
    await seed_demo(db, NOW)
    booked: list[Booking] = []
    for start in STARTS:
        for desk in range(DESKS):
            booked.append(await book(db, settings, NOW, start, f"b-{start}-{desk}@example.org"))
    for n in range(WAITING):
        await wait(db, settings, NOW, f"w-{n}@example.org", time_from="08:00:00",
                   time_until="12:30:00")  # fmt: skip
    await assert_capacity_is_exact(db)

    # Round one: half the appointments go while citizens try to grab their places.
    leaving = booked[::2]
    cancels, public, matchers = await asyncio.gather(
        storm([cancel(pool, settings, b) for b in leaving]),
        storm([public_booking(pool, settings, n) for n in range(60)]),
        storm([matcher(pool, settings, seed) for seed in range(6)]),
    )
    assert outcome_kinds(cancels) == Counter({"Booking": len(leaving)})
    assert outcome_kinds(public) == Counter({"Unbookable": 60})  # held back, or taken
    assert outcome_kinds(matchers) == Counter({"Allocation": 6})
    await waitlist.allocate(pool, settings, NOW, random.Random(1))  # what came in last
    await assert_capacity_is_exact(db)
    made = await offers(db)
    assert len({entry for entry, _, _ in made}) == len(made) == len(leaving)
    # Each freed time went to exactly as many entries as it had places freed.
    assert Counter(start for _, start, _ in made) == Counter(
        b.appointment.starts_at for b in leaving
    )
    assert await db.fetchval("select sum(quarantined) from slot") == 0

    # Round two: some offers are declined while the public and the matchers try again.
    secrets = [await offer_token(db, settings, entry, "manage") for entry, _, _ in made[:10]]
    declines, public, matchers = await asyncio.gather(
        storm([decline(pool, settings, code, token) for code, token in secrets]),
        storm([public_booking(pool, settings, 100 + n) for n in range(30)]),
        storm([matcher(pool, settings, seed) for seed in range(10, 14)]),
    )
    assert outcome_kinds(declines) == Counter({"Booking": len(secrets)})
    assert outcome_kinds(public) == Counter({"Unbookable": 30})
    assert outcome_kinds(matchers) == Counter({"Allocation": 4})
    await waitlist.allocate(pool, settings, NOW, random.Random(2))
    await assert_capacity_is_exact(db)
    made = await offers(db)
    assert Counter(status for _, _, status in made) == Counter(
        {"pending": len(leaving), "cancelled": len(secrets)}
    )
    assert len({entry for entry, _, _ in made}) == len(made) <= WAITING
    assert await db.fetchval("select sum(quarantined) from slot") == 0
    assert not await db.fetchval("select count(*) from appointment where email like 'quick-%'")
