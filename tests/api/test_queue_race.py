"""Invariant 2 under real concurrency: a real ``booking serve`` with two worker processes,
real HTTP, real PostgreSQL.

Thirty desks serving different sets of services empty a queue of 200 tickets (walk-ins
from the kiosk and checked-in appointments, issued concurrently) with concurrent
call-next / recall / complete / no-show loops. Afterwards the database is the judge: every
ticket called exactly once, none left, no desk ever handed a ticket while one it serves
with an earlier place waited, and the numbers of the day without gaps or twins.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from tests.office import EVERYTHING, Office, appointment, bearer, open_office, seat
from tests.processes import Service, service_env, start_serve

STAFF = "/api/v1/staff/locations/mitte"
DESKS = 30
WALK_INS = 170
APPOINTMENTS = 30
# Ten desks serve everything, ten two services, ten a single one.
SERVED = [EVERYTHING] * 10 + [("ausweis", "meldung")] * 10 + [(s,) for s in EVERYTHING * 4][:10]


@pytest.fixture
async def office(database_url: str) -> AsyncIterator[tuple[Office, list[str], list[str]]]:
    """The office, its desk staff's tokens in desk order, and today's appointment codes."""
    conn = await asyncpg.connect(database_url)
    try:
        office = await open_office(
            conn, "mitte", {f"Schalter {n + 1:02d}": SERVED[n] for n in range(DESKS)}
        )
        now = datetime.now(UTC)
        staff = [await seat(conn, office, name, now) for name in sorted(office.desks)]
        # Booked between 14 minutes ago and 29 minutes ahead: inside the check-in window.
        codes = [
            await appointment(conn, office, EVERYTHING[n % 3],
                              now + timedelta(minutes=-14 + (n * 43) // APPOINTMENTS))
            for n in range(APPOINTMENTS)
        ]  # fmt: skip
        yield office, staff, codes
    finally:
        await conn.close()


@pytest.fixture
def server(
    office: tuple[Office, list[str], list[str]],
    database_url: str,
    redis_url: str,
    redis: Redis,
    tmp_path: Path,
) -> Iterator[Service]:
    started = start_serve(
        service_env(database_url, redis_url, db_pool_max="15"), tmp_path, workers=2
    )
    try:
        yield started
    finally:
        started.terminate()


async def _issue(http: httpx.AsyncClient, office: Office, codes: list[str]) -> list[dict[str, Any]]:
    kiosk = bearer(office.kiosk)
    requests = [("/api/v1/kiosk/tickets", {"service": EVERYTHING[n % 3]}) for n in range(WALK_INS)]
    requests += [("/api/v1/kiosk/check-in", {"code": code}) for code in codes]
    random.Random(7).shuffle(requests)

    async def one(path: str, body: dict[str, str]) -> dict[str, Any]:
        answer = await http.post(path, json=body, headers=kiosk)
        assert answer.status_code == 201, answer.text
        ticket: dict[str, Any] = answer.json()
        return ticket

    return await asyncio.gather(*(one(path, body) for path, body in requests))


async def _desk_at_work(http: httpx.AsyncClient, token: str, seed: int) -> list[int]:
    """Call until nothing waits for this desk; the ids of the tickets it was handed."""
    headers, rng = bearer(token), random.Random(seed)
    handed: list[int] = []
    while True:
        called = await http.post(f"{STAFF}/call-next", headers=headers)
        assert called.status_code == 200, called.text
        ticket = called.json()["ticket"]
        if ticket is None:
            return handed
        handed.append(ticket["id"])
        url = f"{STAFF}/tickets/{ticket['id']}"
        roll = rng.random()
        if roll < 0.1:
            assert (await http.post(f"{url}/recall", headers=headers)).status_code == 200
        if roll < 0.15:
            finish = await http.post(f"{url}/no-show", headers=headers)
        else:
            assert (await http.post(f"{url}/start", headers=headers)).status_code == 200
            finish = await http.post(f"{url}/complete", headers=headers)
        assert finish.status_code == 200, finish.text


async def test_thirty_desks_never_share_or_skip_a_ticket(
    office: tuple[Office, list[str], list[str]], server: Service, database_url: str
) -> None:
    desk_office, staff, codes = office
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with (
        asyncio.timeout(120),
        httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http,
    ):
        issued = await _issue(http, desk_office, codes)
        assert len([t for t in issued if t["booked_start"] is not None]) == APPOINTMENTS
        handed = await asyncio.gather(
            *(_desk_at_work(http, token, seed) for seed, token in enumerate(staff))
        )
    assert not server.errors(), server.errors()

    # Every ticket handed to exactly one desk, once; none left behind.
    all_handed = [ticket for desk in handed for ticket in desk]
    assert len(all_handed) == len(set(all_handed)) == WALK_INS + APPOINTMENTS
    conn = await asyncpg.connect(database_url)
    try:
        tickets = await conn.fetch(
            "select id, service_id, priority_at, status, display_code from ticket"
        )
        events = await conn.fetch("select id, kind, ticket_id, desk_id from call_event order by id")
        served = await conn.fetch("select desk_id, service_id from desk_service")
    finally:
        await conn.close()
    assert len(tickets) == WALK_INS + APPOINTMENTS
    assert Counter(t["status"] for t in tickets).keys() <= {"done", "no_show"}
    calls = [e for e in events if e["kind"] == "call"]
    assert Counter(e["ticket_id"] for e in calls) == Counter({t["id"]: 1 for t in tickets})
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))

    # The daily numbers: per prefix 1..n, each once, under concurrent issuing.
    by_prefix: dict[str, list[int]] = defaultdict(list)
    for t in tickets:
        by_prefix[t["display_code"][0]].append(int(t["display_code"][1:]))
    for numbers in by_prefix.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))

    # The order: when a desk was handed a ticket, every ticket of a service it serves with
    # an earlier place (priority_at, then id) had been handed out before.
    services_of: dict[int, set[int]] = defaultdict(set)
    for row in served:
        services_of[row["desk_id"]].add(row["service_id"])
    place = {t["id"]: (t["priority_at"], t["id"]) for t in tickets}
    service = {t["id"]: t["service_id"] for t in tickets}
    called_at_event = {e["ticket_id"]: e["id"] for e in calls}
    for event in calls:
        mine = place[event["ticket_id"]]
        skipped = [
            other for other in place
            if service[other] in services_of[event["desk_id"]]
            and place[other] < mine and called_at_event[other] > event["id"]
        ]  # fmt: skip
        assert not skipped, (event, skipped)
