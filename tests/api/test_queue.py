"""Desk staff run the queue: choose a desk, call in order, recall, serve, no-show, transfer;
the day's appointments; late arrivals; the wait estimate; the closing job.

Tuesday 10 November 2026 in Berlin, on a clock the tests move by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.db.pool import create_pool
from booking.settings import Settings
from booking.workers.tasks import close_queues
from tests.office import EVERYTHING, Office, appointment, bearer, open_office, seat, staff_member

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
STAFF = "/api/v1/staff/locations/mitte"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def office(db: asyncpg.Connection) -> Office:
    return await open_office(
        db, "mitte", {"Schalter 1": EVERYTHING, "Schalter 2": ["meldung"], "Schalter 3": ["kfz"]}
    )


@pytest.fixture
async def client(
    settings: Settings, redis: Redis, clock: FixedClock, office: Office
) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings, clock)) as test_client:
        yield test_client


class Desk:
    """A staff member at a desk, speaking to the API."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.headers = client, bearer(token)

    async def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        answer = await self.client.post(f"{STAFF}{path}", json=body, headers=self.headers)
        assert answer.status_code == expect, answer.text
        return answer.json()

    async def get(self, path: str) -> Any:
        answer = await self.client.get(f"{STAFF}{path}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def call(self) -> dict[str, Any] | None:
        ticket: dict[str, Any] | None = (await self.post("/call-next"))["ticket"]
        return ticket

    async def called_code(self) -> str | None:
        ticket = await self.call()
        return None if ticket is None else str(ticket["code"])

    async def act(self, ticket: dict[str, Any], action: str, expect: int = 200) -> Any:
        return await self.post(f"/tickets/{ticket['id']}/{action}", expect=expect)


async def desk(client: Client, db: asyncpg.Connection, office: Office, name: str) -> Desk:
    return Desk(client, await seat(db, office, name, NOW))


async def take(client: Client, office: Office, service: str) -> dict[str, Any]:
    answer = await client.post(
        "/api/v1/kiosk/tickets", json={"service": service}, headers=bearer(office.kiosk)
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_staff_choose_a_desk_and_call_only_its_services(
    client: Client, office: Office, db: asyncpg.Connection
) -> None:
    _, token = await staff_member(db, office)
    staff = Desk(client, token)
    no_desk = await staff.post("/call-next", expect=409)
    assert no_desk["code"] == "no_desk"
    desks = {d["name"]: d for d in await staff.get("/desks")}
    assert desks["Schalter 2"]["services"] == ["meldung"]
    chosen = await client.put(f"{STAFF}/desk", json={"desk_id": desks["Schalter 2"]["id"]},
                              headers=staff.headers)  # fmt: skip
    assert chosen.json()["staffed_by"] is not None
    await take(client, office, "ausweis")
    assert await staff.call() is None  # only "ausweis" waits: not served at Schalter 2
    await take(client, office, "meldung")
    assert await staff.called_code() == "B001"
    busy = await staff.post("/call-next", expect=409)
    assert busy["code"] == "desk_busy"
    queue = await staff.get("/queue")
    assert [t["code"] for t in queue["tickets"]] == ["B001"]
    everything = await staff.get("/queue?all=true")
    assert [t["code"] for t in everything["tickets"]] == ["B001", "A001"]
    # Taking another desk leaves the first; choosing one somebody else sits at takes it over.
    other = await desk(client, db, office, "Schalter 1")
    await client.put(f"{STAFF}/desk", json={"desk_id": desks["Schalter 1"]["id"]},
                     headers=staff.headers)  # fmt: skip
    assert (await other.post("/call-next", expect=409))["code"] == "no_desk"
    assert (await client.delete(f"{STAFF}/desk", headers=staff.headers)).status_code == 204
    left = {d["name"]: d["staffed_by"] for d in await staff.get("/desks")}
    assert left == {"Schalter 1": None, "Schalter 2": None, "Schalter 3": None}


async def test_appointments_are_called_at_their_time_ahead_of_later_walk_ins(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    """priority_at: issue time for walk-ins, booked start for check-ins; then first come."""
    counter = await desk(client, db, office, "Schalter 1")
    at_0910 = await appointment(db, office, "meldung", NOW + timedelta(minutes=10))
    also_0910 = await appointment(db, office, "ausweis", NOW + timedelta(minutes=10))
    issued = []
    for minute, what in ((0, "ausweis"), (5, at_0910), (6, "meldung"), (7, also_0910),
                         (12, "kfz"), (15, "ausweis")):  # fmt: skip
        clock.instant = NOW + timedelta(minutes=minute)
        if what in office.services:
            issued.append((await take(client, office, what))["code"])
        else:
            answer = await client.post(
                "/api/v1/kiosk/check-in", json={"code": what}, headers=bearer(office.kiosk)
            )
            issued.append(answer.json()["code"])
    assert issued == ["A001", "B001", "B002", "A002", "K001", "A003"]
    calls = []
    while (ticket := await counter.call()) is not None:
        calls.append(ticket["code"])
        await counter.act(ticket, "complete")
    # 09:00 walk-in, 09:06 walk-in, the two 09:10 appointments in check-in order, 09:12, 09:15.
    assert calls == ["A001", "B002", "B001", "A002", "K001", "A003"]


async def test_recall_start_complete_and_no_show(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    counter = await desk(client, db, office, "Schalter 1")
    elsewhere = await desk(client, db, office, "Schalter 2")
    # Booked for 08:55, a little late: still ahead of the 09:00 walk-in.
    code = await appointment(db, office, "ausweis", NOW - timedelta(minutes=5))
    await client.post("/api/v1/kiosk/check-in", json={"code": code}, headers=bearer(office.kiosk))
    walk_in = await take(client, office, "ausweis")

    first = await counter.call()
    assert first is not None
    assert first["appointment"] == {"code": code, "start": "2026-11-10T07:55:00Z",
                                    "name": "Erika Mustermann"}  # fmt: skip
    clock.instant = NOW + timedelta(minutes=1)
    recalled = await counter.act(first, "recall")
    assert (recalled["recalls"], recalled["status"]) == (1, "called")
    foreign = await elsewhere.act(first, "complete", expect=409)
    assert foreign["code"] == "not_at_your_desk"
    assert (await counter.act(first, "no-show"))["status"] == "no_show"
    assert await db.fetchval("select status from appointment where code = $1", code) == "no_show"
    gone = await counter.act(first, "recall", expect=409)
    assert gone["code"] == "not_at_your_desk"

    second = await counter.call()
    assert second is not None
    assert second["code"] == walk_in["code"]
    started = await counter.act(second, "start")
    assert started["status"] == "serving"
    again = await counter.act(second, "no-show", expect=409)
    assert again["code"] == "wrong_state"
    clock.instant = NOW + timedelta(minutes=9)
    assert (await counter.act(second, "complete"))["status"] == "done"
    followed = (await client.get(f"/api/v1/tickets/{walk_in['public_id']}")).json()
    assert (followed["status"], followed["position"], followed["desk"]) == ("done", None, None)
    events = await db.fetch("select id, kind, display_code, desk_name from call_event order by id")
    assert [tuple(e) for e in events] == [
        (1, "call", "A001", "Schalter 1"), (2, "recall", "A001", "Schalter 1"),
        (3, "call", "A002", "Schalter 1"),
    ]  # fmt: skip


async def test_a_completed_appointment_ticket_completes_the_appointment(
    client: Client, office: Office, db: asyncpg.Connection
) -> None:
    counter = await desk(client, db, office, "Schalter 1")
    code = await appointment(db, office, "kfz", NOW)
    await client.post("/api/v1/kiosk/check-in", json={"code": code}, headers=bearer(office.kiosk))
    ticket = await counter.call()
    assert ticket is not None
    done = await counter.act(ticket, "complete")  # straight from the call
    assert done["started_at"] == done["called_at"]
    assert await db.fetchval("select status from appointment where code = $1", code) == "completed"


async def test_a_transferred_ticket_keeps_its_number_and_its_place_in_time(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    """At 09:00 A001 waits for "ausweis"; B001 (08:59) and B002 (09:20) wait for "meldung".
    A001 turns out to need "meldung": it goes behind B001, who came before it, and ahead of
    B002, who came after, keeping its number."""
    counter = await desk(client, db, office, "Schalter 1")
    certificates = await desk(client, db, office, "Schalter 2")
    await db.execute(  # Schalter 1 serves "ausweis" only here
        "delete from desk_service where desk_id = $1 and service_id <> $2",
        office.desks["Schalter 1"], office.services["ausweis"],
    )  # fmt: skip
    clock.instant = NOW - timedelta(minutes=1)
    await take(client, office, "meldung")
    clock.instant = NOW
    a001 = await take(client, office, "ausweis")
    clock.instant = NOW + timedelta(minutes=20)
    b002 = await take(client, office, "meldung")
    called = await counter.call()
    assert called is not None
    assert called["code"] == "A001"
    clock.instant = NOW + timedelta(minutes=21)
    moved = await counter.post(f"/tickets/{called['id']}/transfer", {"service": "meldung"})
    assert (moved["code"], moved["status"], moved["service"]) == ("A001", "waiting", "meldung")
    assert (
        datetime.fromisoformat(moved["priority_at"])
        == NOW
        == datetime.fromisoformat(a001["issued_at"])
    )
    followed = (await client.get(f"/api/v1/tickets/{b002['public_id']}")).json()
    assert followed["position"] == 3
    assert await certificates.called_code() == "B001"
    same = await counter.post(f"/tickets/{called['id']}/transfer", {"service": "meldung"}, 422)
    assert same["code"] == "invalid_input"
    nowhere = await counter.post(f"/tickets/{called['id']}/transfer", {"service": "x"}, 422)
    assert nowhere["details"][0]["field"] == "service"
    # A waiting ticket any staff member may move; the desk then calls it in its new queue.
    await certificates.act({"id": (await certificates.get("/queue"))["tickets"][0]["id"]},
                           "complete")  # fmt: skip
    assert await certificates.called_code() == "A001"
    transfers = await db.fetchval("select count(*) from audit_log where action = 'ticket.transfer'")
    assert transfers == 1


async def test_the_days_appointments_show_their_check_in_and_late_ones_become_walk_ins(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    staff = await desk(client, db, office, "Schalter 1")
    on_time = await appointment(db, office, "meldung", NOW + timedelta(minutes=10))
    late = await appointment(db, office, "ausweis", NOW - timedelta(minutes=40))
    await appointment(db, office, "ausweis", NOW + timedelta(days=1))
    await staff.post(f"/appointments/{on_time}/check-in", expect=201)
    not_yet = await staff.post(f"/appointments/{on_time}/walk-in", expect=409)
    assert not_yet["code"] == "already_checked_in"
    refused = await staff.post(f"/appointments/{late}/check-in", expect=409)
    assert refused["code"] == "too_late"
    walk_in = await staff.post(f"/appointments/{late}/walk-in", expect=201)
    # Queued from now, not from its booked start 40 minutes ago.
    assert walk_in["position"] == 1  # the on-time appointment is due at 09:10, after now
    day = await staff.get("/appointments")
    assert [(a["code"], a["status"], a["ticket"]) for a in day] == [
        (late, "checked_in", {"code": "A001", "status": "waiting"}),
        (on_time, "checked_in", {"code": "B001", "status": "waiting"}),
    ]
    assert day[0]["name"] == "Erika Mustermann"
    tomorrow = await staff.get("/appointments?date=2026-11-11")
    assert len(tomorrow) == 1
    assert (await staff.post("/call-next"))["ticket"]["code"] == "A001"
    bad = await staff.client.get(f"{STAFF}/appointments?date=11.11.2026", headers=staff.headers)
    assert bad.status_code in {400, 422}


async def test_the_estimate_follows_recent_service_times_per_service(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    """Two "meldung" tickets served in 4 and 6 minutes: median 5; the catalogue says 10."""
    counter = await desk(client, db, office, "Schalter 2")
    for minutes in (4, 6):
        await take(client, office, "meldung")
        ticket = await counter.call()
        assert ticket is not None
        await counter.act(ticket, "start")
        clock.instant += timedelta(minutes=minutes)
        await counter.act(ticket, "complete")
    waiting = [await take(client, office, "meldung") for _ in range(3)]
    assert [t["estimated_minutes"] for t in waiting] == [0, 5, 10]
    assert (await take(client, office, "ausweis"))["estimated_minutes"] == 0
    second = await take(client, office, "ausweis")
    # Nobody served "ausweis" lately: its catalogue 20 minutes, with Schalter 1 not yet active.
    assert second["estimated_minutes"] == 20


async def test_the_closing_job_closes_what_is_left_after_hours(
    client: Client, office: Office, db: asyncpg.Connection, settings: Settings, clock: FixedClock
) -> None:
    # Open 08:00-12:00 on Tuesdays; closed 30 minutes after (BOOKING_QUEUE_CLOSE_GRACE_MINUTES).
    await db.execute(
        "insert into opening_rule (location_id, weekday, opens_at, closes_at, desks) "
        "values ($1, 2, '08:00', '12:00', 2)",
        office.location_id,
    )
    counter = await desk(client, db, office, "Schalter 1")
    served = await take(client, office, "ausweis")
    waiting = await take(client, office, "ausweis")
    ticket = await counter.call()
    assert ticket is not None
    await counter.act(ticket, "start")
    pool = await create_pool(settings)
    try:
        ctx = {"db_pool": pool, "clock": clock, "settings": settings}
        clock.instant = datetime(2026, 11, 10, 11, 29, tzinfo=UTC)  # 12:29 in Berlin
        assert await close_queues(ctx) == 0
        clock.instant = datetime(2026, 11, 10, 11, 31, tzinfo=UTC)
        assert await close_queues(ctx) == 1  # the waiting one; the desk is still serving
        assert await close_queues(ctx) == 0
        clock.instant = datetime(2026, 11, 10, 23, 1, tzinfo=UTC)  # Wednesday in Berlin
        assert await close_queues(ctx) == 1
    finally:
        await pool.close()
    statuses = await db.fetch("select public_id, status from ticket order by id")
    assert [(r["public_id"], r["status"]) for r in statuses] == [
        (served["public_id"], "done"), (waiting["public_id"], "cancelled"),
    ]  # fmt: skip
    # The desk is free for Wednesday's first call.
    await take(client, office, "ausweis")
    assert await counter.called_code() == "A001"


async def test_two_desks_calling_at_once_never_share_a_ticket(
    client: Client, office: Office, db: asyncpg.Connection
) -> None:
    desks = [await desk(client, db, office, name) for name in ("Schalter 1", "Schalter 2")]
    for _ in range(2):
        await take(client, office, "meldung")
    first, second = await asyncio.gather(*(d.call() for d in desks))
    assert first is not None
    assert second is not None
    assert {first["code"], second["code"]} == {"B001", "B002"}


@pytest.mark.parametrize(
    "request_",
    [
        ("put", "/desk", {"desk_id": "eins"}),
        ("put", "/desk", {"desk_id": 0}),
        ("put", "/desk", {"desk_id": 99999}),
        ("put", "/desk", {"desk_id": 2**70}),
        ("post", "/tickets/99999/complete", None),
        ("post", "/tickets/1/transfer", {"service": 7}),
        ("post", "/tickets/1/transfer", {}),
        ("post", "/appointments/%00%00%00%00/check-in", None),
        ("post", "/appointments/ZZZZZZ/walk-in", None),
        ("get", "/queue?all=vielleicht", None),
    ],
)
async def test_bad_staff_input_gets_a_4xx(
    client: Client, office: Office, db: asyncpg.Connection, request_: tuple[str, str, Any]
) -> None:
    method, path, body = request_
    staff = await desk(client, db, office, "Schalter 1")
    answer = await client.request(method, f"{STAFF}{path}", json=body, headers=staff.headers)
    assert 400 <= answer.status_code < 500, answer.text
    assert set(answer.json()) == {"status", "code", "message", "details"}


async def test_location_admins_manage_desks(
    client: Client, office: Office, db: asyncpg.Connection
) -> None:
    _, token = await staff_member(db, office, "location_admin")
    admin = bearer(token)
    url = "/api/v1/admin/locations/mitte/desks"
    created = await client.post(url, json={"name": "Schalter 9", "services": ["kfz", "ausweis"]},
                                headers=admin)  # fmt: skip
    assert created.status_code == 201, created.text
    desk_out = created.json()
    assert desk_out["services"] == ["ausweis", "kfz"]
    twice = await client.post(url, json={"name": "Schalter 9", "services": []}, headers=admin)
    assert twice.status_code == 409
    unknown = await client.post(url, json={"name": "X", "services": ["fahrrad"]}, headers=admin)
    assert unknown.status_code == 422
    changed = await client.patch(f"{url}/{desk_out['id']}", json={"services": ["meldung"],
                                 "active": False}, headers=admin)  # fmt: skip
    assert msgspec.json.decode(changed.content)["services"] == ["meldung"]
    assert changed.json()["active"] is False
    listed = (await client.get(url, headers=admin)).json()
    assert [d["name"] for d in listed] == ["Schalter 1", "Schalter 2", "Schalter 3", "Schalter 9"]
    missing = await client.patch(f"{url}/99999", json={"name": "Y"}, headers=admin)
    assert missing.status_code == 404
    actions = await db.fetch("select action from audit_log where object_kind = 'desk'")
    assert [r["action"] for r in actions] == ["desk.create", "desk.update"]
