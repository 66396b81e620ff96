"""Admin statistics of Mitte over 19-26 October 2026: a busy Tuesday and the DST weekend.

Every expected figure is counted by hand from the rows inserted below; waits and service
times are whole minutes, so medians and 90th percentiles (linear interpolation, as
``percentile_cont``) come out exact.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.db.privacy import erase_personal_data_before

Client = AsyncTestClient[Litestar]
BERLIN = ZoneInfo("Europe/Berlin")
URL = "/api/v1/admin/locations/mitte/statistics"
RANGE = "from=2026-10-19&to=2026-10-26"
# Statuses whose appointment occupies its grid units (cancelled and expired gave them back).
HOLDING = {"pending", "booked", "checked_in", "completed", "no_show"}


def local(text: str) -> datetime:
    """A local Berlin wall time; never an ambiguous one of the autumn night."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


class Office:
    """Inserts rows as the booking and queue code would leave them, with personal data."""

    def __init__(self, db: asyncpg.Connection, slug: str) -> None:
        self.db = db
        self.slug = slug

    async def create(self) -> None:
        self.id = await self.db.fetchval(
            "insert into location (slug, name_de, name_en) values ($1, $1, $1) returning id",
            self.slug,
        )
        self.service = await self.db.fetchval(
            """
            insert into service (slug, name_de, name_en, duration_minutes)
            values ($1 || '-ausweis', 'Ausweis', 'ID card', 20) returning id
            """,
            self.slug,
        )

    async def appointment(self, code: str, start: str, status: str) -> int:
        starts = local(start)
        ends = starts + timedelta(minutes=20)
        appointment_id: int = await self.db.fetchval(
            """
            insert into appointment (code, location_id, starts_at, ends_at, status, citizen_name,
                                     email, phone, manage_token_hash)
            values ($1, $2, $3, $4, $5, 'Erika ' || $1, lower($1) || '@example.org',
                    '+49 30 ' || $1, '\\x00')
            returning id
            """,
            code, self.id, starts, ends, status,
        )  # fmt: skip
        if status in HOLDING:
            await self.db.execute(
                """
                update slot set booked = booked + 1
                 where location_id = $1 and starts_at >= $2 and starts_at < $3
                """,
                self.id, starts, ends,
            )  # fmt: skip
        return appointment_id

    async def ticket(
        self,
        code: str,
        issued: str,
        called: str | None = None,
        served: tuple[str, str] | None = None,
        *,
        status: str = "done",
        appointment_id: int | None = None,
    ) -> None:
        issued_at = local(issued)
        started, finished = served or (None, None)
        await self.db.execute(
            """
            insert into ticket (public_id, location_id, service_id, appointment_id, day,
                                display_code, status, priority_at, citizen_name, issued_at,
                                called_at, started_at, finished_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, 'Max ' || $6, $8, $9, $10, $11)
            """,
            uuid.uuid4().hex, self.id, self.service, appointment_id,
            issued_at.astimezone(BERLIN).date(), code, status, issued_at,
            called and local(called), started and local(started), finished and local(finished),
        )  # fmt: skip

    async def slots(self, first: str, count: int, capacity: int) -> None:
        """``count`` 10-minute units from ``first`` in one window."""
        start = local(first)
        await self.db.execute(
            """
            insert into slot (location_id, starts_at, window_ends_at, rule_capacity, capacity)
            select $1, $2::timestamptz + make_interval(mins => 10 * n),
                   $2::timestamptz + make_interval(mins => 10 * $3), $4, $4
              from generate_series(0, $3 - 1) as n
            """,
            self.id, start, count, capacity,
        )  # fmt: skip


@pytest.fixture
async def mitte(db: asyncpg.Connection) -> Office:
    office = Office(db, "mitte")
    await office.create()
    # Tuesday 20 October: 09:00-14:00 with two desks for appointments, 30 units.
    await office.slots("2026-10-20 09:00", 30, 2)
    # A night unit at 00:10 CEST on the DST Sunday: 22:10 UTC on the Saturday.
    await office.slots("2026-10-25 00:10", 1, 1)

    a1 = await office.appointment("A1", "2026-10-20 09:00", "completed")
    a2 = await office.appointment("A2", "2026-10-20 09:30", "completed")
    await office.appointment("A3", "2026-10-20 10:00", "no_show")
    await office.appointment("A4", "2026-10-20 10:30", "cancelled")
    await office.appointment("A5", "2026-10-20 11:00", "expired")
    a6 = await office.appointment("A6", "2026-10-20 11:30", "checked_in")
    await office.appointment("A7", "2026-10-20 12:00", "booked")
    await office.appointment("A8", "2026-10-20 13:00", "pending")
    await office.appointment("A9", "2026-10-27 09:00", "booked")  # after the range
    await db.execute(
        "update slot set booked = 1 where location_id = $1 and starts_at = $2",
        office.id, local("2026-10-25 00:10"),
    )  # fmt: skip

    # Early check-in waits from the booked start: 09:00 -> 09:04 is 4 minutes.
    await office.ticket(
        "T1", "2026-10-20 08:50", "2026-10-20 09:04", ("2026-10-20 09:05", "2026-10-20 09:20"),
        appointment_id=a1,
    )  # fmt: skip
    # Late check-in waits from the check-in: 6 minutes; served 10.
    await office.ticket(
        "T2", "2026-10-20 09:40", "2026-10-20 09:46", ("2026-10-20 09:47", "2026-10-20 09:57"),
        appointment_id=a2,
    )  # fmt: skip
    # Called before the booked start: no wait; still being served, so no service time.
    await office.ticket(
        "T3", "2026-10-20 11:20", "2026-10-20 11:25", status="serving", appointment_id=a6
    )
    await office.ticket(
        "W1", "2026-10-20 08:00", "2026-10-20 08:10", ("2026-10-20 08:11", "2026-10-20 08:31")
    )
    await office.ticket(
        "W2", "2026-10-20 08:05", "2026-10-20 08:25", ("2026-10-20 08:26", "2026-10-20 08:34")
    )
    await office.ticket(
        "W3", "2026-10-20 08:10", "2026-10-20 08:40", ("2026-10-20 08:40", "2026-10-20 08:45")
    )
    await office.ticket("W4", "2026-10-20 10:00", status="cancelled")
    await office.ticket("W5", "2026-10-20 10:00", "2026-10-20 10:12", status="no_show")

    # Around local midnights: all four were issued on a UTC date other than their local one.
    await office.ticket("E0", "2026-10-18 23:30", status="cancelled")  # 21:30 UTC, before
    await office.ticket("E1", "2026-10-19 00:30", status="cancelled")  # 22:30 UTC on the 18th
    await office.ticket("D1", "2026-10-25 00:30", "2026-10-25 00:35")  # CEST, 22:30 UTC 24th
    await office.ticket("D2", "2026-10-25 23:30", "2026-10-25 23:37")  # CET, 22:30 UTC 25th
    await office.ticket("D3", "2026-10-26 00:30", "2026-10-26 00:39")  # 23:30 UTC 25th
    await office.ticket("E2", "2026-10-27 00:30", status="cancelled")  # 23:30 UTC 26th, after

    # Another office the same day must not count.
    nord = Office(db, "nord")
    await nord.create()
    await nord.slots("2026-10-20 09:00", 6, 1)
    nord_appointment = await nord.appointment("N1", "2026-10-20 09:00", "completed")
    await nord.ticket(
        "N1", "2026-10-20 08:00", "2026-10-20 09:00", ("2026-10-20 09:00", "2026-10-20 10:00"),
        appointment_id=nord_appointment,
    )  # fmt: skip
    return office


NO_APPOINTMENTS = dict.fromkeys(
    ("booked", "completed", "no_show", "checked_in", "cancelled", "expired", "pending"), 0
)
NOT_MEASURED = {"count": 0, "median": None, "p90": None}


def quiet(**changes: Any) -> dict[str, Any]:
    """The figures of a day on which nothing happened, with ``changes``."""
    return {
        "appointments": NO_APPOINTMENTS,
        "walk_ins": 0,
        "waiting_minutes": NOT_MEASURED,
        "service_minutes": NOT_MEASURED,
        "utilisation": {"booked_units": 0, "capacity_units": 0, "ratio": None},
        **changes,
    }


# Appointments on the Tuesday: booked = booked + checked in + completed + no-show (A1-3, A6-7).
TUESDAY_APPOINTMENTS = {"booked": 5, "completed": 2, "no_show": 1, "checked_in": 1,
                        "cancelled": 1, "expired": 1, "pending": 1}  # fmt: skip
TUESDAY = quiet(
    day="2026-10-20",
    appointments=TUESDAY_APPOINTMENTS,
    walk_ins=5,
    # Waits 0 4 6 10 12 20 30: median 10, p90 at rank 5.4 = 20 + 0.4 * 10.
    waiting_minutes={"count": 7, "median": 10.0, "p90": 24.0},
    # Service 5 8 10 15 20: median 10, p90 at rank 3.6 = 15 + 0.6 * 5.
    service_minutes={"count": 5, "median": 10.0, "p90": 18.0},
    # Six appointments hold two units each (A1-3, A6-8) of 30 units x 2 desks.
    utilisation={"booked_units": 12, "capacity_units": 60, "ratio": 0.2},
)


@pytest.fixture
def client(admin_client: Client) -> Client:
    """Statistics are for (location) admins; tests/test_route_guards.py covers everyone else."""
    return admin_client


async def figures(client: Client, query: str = RANGE) -> dict[str, Any]:
    answer = await client.get(f"{URL}?{query}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.usefixtures("mitte")
async def test_a_busy_day_counted_by_hand(client: Client) -> None:
    body = await figures(client)
    assert (body["location"], body["time_zone"]) == ("mitte", "Europe/Berlin")
    assert (body["from"], body["to"]) == ("2026-10-19", "2026-10-26")
    days = {day["day"]: day for day in body["days"]}
    assert list(days) == [f"2026-10-{n}" for n in range(19, 27)]
    assert days["2026-10-20"] == TUESDAY
    assert days["2026-10-19"] == quiet(day="2026-10-19", walk_ins=1)  # E1, 00:30 local
    assert days["2026-10-21"] == quiet(day="2026-10-21")


@pytest.mark.usefixtures("mitte")
async def test_tickets_and_units_land_on_their_local_day_across_the_dst_change(
    client: Client,
) -> None:
    days = {day["day"]: day for day in (await figures(client))["days"]}
    assert days["2026-10-24"] == quiet(day="2026-10-24")
    # The 25-hour Sunday holds D1 (00:30 CEST) and D2 (23:30 CET): waits 5 and 7.
    assert days["2026-10-25"] == quiet(
        day="2026-10-25",
        walk_ins=2,
        waiting_minutes={"count": 2, "median": 6.0, "p90": 6.8},
        utilisation={"booked_units": 1, "capacity_units": 1, "ratio": 1.0},
    )
    assert days["2026-10-26"] == quiet(
        day="2026-10-26", walk_ins=1, waiting_minutes={"count": 1, "median": 9.0, "p90": 9.0}
    )


@pytest.mark.usefixtures("mitte")
async def test_totals_are_computed_over_the_whole_range(client: Client) -> None:
    total = (await figures(client))["total"]
    assert total == quiet(
        appointments=TUESDAY_APPOINTMENTS,
        walk_ins=9,
        # Waits 0 4 5 6 7 9 10 12 20 30: median (7 + 9) / 2, p90 at rank 8.1 = 20 + 0.1 * 10.
        waiting_minutes={"count": 10, "median": 8.0, "p90": 21.0},
        service_minutes=TUESDAY["service_minutes"],
        utilisation={"booked_units": 13, "capacity_units": 61, "ratio": 0.2131},
    )


def flatten(prefix: str, value: Any) -> dict[str, str]:
    """A JSON value as the CSV cells it should become."""
    if isinstance(value, dict):
        cells: dict[str, str] = {}
        for key, inner in value.items():
            cells.update(flatten(f"{prefix}_{key}" if prefix else key, inner))
        return cells
    return {prefix: "" if value is None else str(value)}


@pytest.mark.usefixtures("mitte")
@pytest.mark.parametrize(
    ("query", "headers"),
    [(f"{RANGE}&format=csv", {}), (RANGE, {"Accept": "text/csv"})],
)
async def test_csv_has_a_header_and_the_same_figures_as_json(
    client: Client, query: str, headers: dict[str, str]
) -> None:
    body = await figures(client)
    answer = await client.get(f"{URL}?{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; header=present; charset=utf-8"
    assert "statistics-mitte-2026-10-19-2026-10-26.csv" in answer.headers["content-disposition"]
    assert b"\r\n" in answer.content
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8"), newline="")))
    header, *records = rows
    assert header[:3] == ["day", "appointments_booked", "appointments_completed"]
    assert "waiting_minutes_p90" in header
    assert "utilisation_ratio" in header
    expected = [flatten("", day) for day in body["days"]]
    expected.append({"day": "total", **flatten("", body["total"])})
    assert [dict(zip(header, record, strict=True)) for record in records] == expected
    tuesday = dict(zip(header, records[1], strict=True))
    assert (tuesday["waiting_minutes_median"], tuesday["utilisation_ratio"]) == ("10.0", "0.2")


@pytest.mark.usefixtures("mitte")
async def test_json_unless_csv_is_preferred(client: Client) -> None:
    for headers, query in [
        ({"Accept": "text/html, */*;q=0.8"}, RANGE),
        ({"Accept": "text/csv, application/json;q=0.9"}, f"{RANGE}&format=json"),
    ]:
        answer = await client.get(f"{URL}?{query}", headers=headers)
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["vary"] == "Accept"
    preferred = await client.get(
        f"{URL}?{RANGE}", headers={"Accept": "application/json;q=0.5, text/csv"}
    )
    assert preferred.headers["content-type"].startswith("text/csv")


async def test_erasing_personal_data_leaves_every_figure_unchanged(
    client: Client, db: asyncpg.Connection, mitte: Office
) -> None:
    before = await figures(client)
    before_csv = (await client.get(f"{URL}?{RANGE}&format=csv")).content

    erased = await erase_personal_data_before(db, 2)  # October is weeks behind the real clock

    assert (erased.appointments, erased.tickets) == (10, 15)  # with Nord's
    assert await db.fetchval(
        "select count(*) from appointment where citizen_name is not null or email is not null"
        " or phone is not null"
    ) == 0  # fmt: skip
    assert await db.fetchval("select count(*) from ticket where citizen_name is not null") == 0
    assert await figures(client) == before
    assert (await client.get(f"{URL}?{RANGE}&format=csv")).content == before_csv


@pytest.mark.usefixtures("mitte")
async def test_a_range_of_exactly_366_days_is_fine(client: Client) -> None:
    body = await figures(client, "from=2026-01-01&to=2027-01-01")
    assert len(body["days"]) == 366
    assert body["total"]["walk_ins"] == 11  # E0 and E2 too
    assert body["total"]["appointments"]["booked"] == 6  # and A9


@pytest.mark.usefixtures("mitte")
@pytest.mark.parametrize(
    ("path", "query", "status", "field"),
    [
        (URL, "from=2026-10-26&to=2026-10-19", 422, "to"),
        (URL, "from=2026-01-01&to=2027-01-02", 422, "to"),
        (URL, "from=2026-02-30&to=2026-03-01", 422, "from"),
        (URL, "from=20261019&to=yesterday", 422, "to"),
        (URL, "from=2026-10-19", 422, "to"),
        (URL, "to=2026-10-19", 422, "from"),
        (URL, f"{RANGE}&format=xlsx", 422, "format"),
        ("/api/v1/admin/locations/mond/statistics", RANGE, 404, None),
    ],
)
async def test_bad_requests_get_a_4xx_in_the_error_format(
    client: Client, path: str, query: str, status: int, field: str | None
) -> None:
    answer = await client.get(f"{path}?{query}")
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"status", "code", "message", "details"}
    assert body["status"] == status
    assert body["code"] == ("invalid_input" if status == 422 else "not_found")
    if field is not None:
        # Litestar names a missing parameter only in the message.
        fields = [problem["field"] for problem in body["details"]]
        assert field in fields or f"parameter '{field}'" in body["message"]
