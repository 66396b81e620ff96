"""What the fault tests share: citizens booking over real HTTP.

Every booking carries an Idempotency-Key, so a request whose answer was lost to a fault
can be sent again: it then books, or replays what had been committed, never both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.processes import wait_for

LOCATION = "mitte"
SERVICE = "meldebescheinigung"  # one grid unit at mitte


def citizen_headers(n: int) -> dict[str, str]:
    """Each citizen behind the (trusted) proxy with an address of their own."""
    return {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


async def free_starts(http: httpx.AsyncClient) -> list[str]:
    """The bookable starts of the next month, for citizens to take one each (no contest)."""
    first = datetime.now(UTC).date() + timedelta(days=2)
    answer = await http.get(
        "/api/v1/availability",
        params={"location": LOCATION, "service": SERVICE, "from": str(first),
                "to": str(first + timedelta(days=30))},
    )  # fmt: skip
    answer.raise_for_status()
    return [start for day in answer.json()["days"] for start in day["starts"]]


@dataclass
class Attempt:
    """One booking request; ``status`` None: no answer came (the server went away)."""

    n: int
    start: str
    status: int | None = None
    body: Any = None

    @property
    def email(self) -> str:
        return f"citizen-{self.n}@example.org"

    def payload(self) -> dict[str, Any]:
        return {"location": LOCATION, "services": [SERVICE], "start": self.start,
                "name": f"Bürger {self.n}", "email": self.email}  # fmt: skip

    async def send(self, http: httpx.AsyncClient) -> Attempt:
        headers = {**citizen_headers(self.n), "Idempotency-Key": f"fault-{self.n}"}
        try:
            answer = await http.post("/api/v1/appointments", json=self.payload(), headers=headers)
        except httpx.TransportError:
            self.status, self.body = None, None
            return self
        self.status = answer.status_code
        self.body = answer.json()
        return self


@asynccontextmanager
async def held_booking(
    db: asyncpg.Connection, http: httpx.AsyncClient, database_url: str, start: str
) -> AsyncIterator[asyncio.Task[Attempt]]:
    """A booking in flight for as long as the block runs: the test's row lock on its unit
    keeps it waiting (on a pooled connection of the server's) until the block ends."""
    async with db.transaction():
        await db.execute(
            "select 1 from slot where starts_at = $2 and location_id = "
            "(select id from location where slug = $1) for update",
            LOCATION, datetime.fromisoformat(start),
        )  # fmt: skip
        booking = asyncio.create_task(Attempt(0, start).send(http))
        await wait_for(lambda: lock_waiters(database_url), 30)
        yield booking


async def lock_waiters(database_url: str) -> bool:
    """Whether a backend of this database waits for a lock (the booking behind the test's)."""
    conn = await asyncpg.connect(database_url)
    try:
        waiting: int = await conn.fetchval(
            "select count(*) from pg_stat_activity"
            " where datname = current_database() and wait_event_type = 'Lock'"
        )
        return waiting > 0
    finally:
        await conn.close()
