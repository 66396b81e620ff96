"""Live calls over Server-Sent Events from two real ``booking serve`` processes on one
database: every board sees every call exactly once and in order, whichever process made the
call and whichever the board listens to, also after reconnecting with ``Last-Event-ID`` and
after PostgreSQL dropped a process's listening connection."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from tests.office import EVERYTHING, Office, bearer, open_office, seat
from tests.processes import Service, service_env, start_serve, wait_for

BOARD = "/api/v1/locations/mitte/display/stream"
STAFF = "/api/v1/staff/locations/mitte"
DESKS = ("Schalter 1", "Schalter 2", "Schalter 3")
TICKETS = 24


@dataclass(eq=False)  # a board is itself, whatever it has seen
class Board:
    """One display board following the stream; it may hang up and come back elsewhere."""

    name: str
    events: list[dict[str, Any]] = field(default_factory=list)
    # Set by the stream's first line, which comes once the server has subscribed it.
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        async with http.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                self.subscribed.set()
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                    continue
                if "id" in fields:
                    data = json.loads(fields["data"])
                    assert (data["id"], data["kind"]) == (int(fields["id"]), fields["event"])
                    self.events.append(data)
                fields = {}

    @property
    def ids(self) -> list[int]:
        return [event["id"] for event in self.events]


@pytest.fixture
async def office(database_url: str) -> AsyncIterator[tuple[Office, dict[str, str]]]:
    conn = await asyncpg.connect(database_url)
    try:
        office = await open_office(conn, "mitte", dict.fromkeys(DESKS, EVERYTHING))
        now = datetime.now(UTC)
        yield office, {name: await seat(conn, office, name, now) for name in DESKS}
    finally:
        await conn.close()


@pytest.fixture
def servers(
    office: tuple[Office, dict[str, str]],
    database_url: str,
    redis_url: str,
    redis: Redis,
    tmp_path: Path,
) -> Iterator[tuple[Service, Service]]:
    env = service_env(database_url, redis_url)
    started: list[Service] = []
    try:
        for name in ("a", "b"):
            started.append(start_serve(env, tmp_path / name))
        yield started[0], started[1]
    finally:
        for server in started:
            server.terminate()


async def test_every_board_sees_every_call_once_in_order_across_processes(
    office: tuple[Office, dict[str, str]],
    servers: tuple[Service, Service],
    database_url: str,
) -> None:
    desk_office, staff = office
    a, b = servers
    display = bearer(desk_office.display)
    boards = {Board(f"{label}-{n}"): server for label, server in (("a", a), ("b", b))
              for n in range(3)}  # fmt: skip
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http:
        # From the first event on: boards that loaded the state at event 0.
        followers = {
            board.name: asyncio.create_task(board.follow(http, f"{server.url}{BOARD}?after=0",
                                                         display))
            for board, server in boards.items()
        }  # fmt: skip
        for board in boards:
            await asyncio.wait_for(board.subscribed.wait(), 10)
        kiosk = bearer(desk_office.kiosk)
        for n in range(TICKETS):
            server = (a, b)[n % 2]
            issued = await http.post(f"{server.url}/api/v1/kiosk/tickets", headers=kiosk,
                                     json={"service": EVERYTHING[n % 3]})  # fmt: skip
            assert issued.status_code == 201, issued.text

        async def desk_at_work(index: int, name: str, calls: int) -> None:
            """Up to ``calls`` tickets, each called, sometimes recalled, and completed."""
            server = (a, b)[index % 2]
            headers = bearer(staff[name])
            for _ in range(calls):
                called = await http.post(f"{server.url}{STAFF}/call-next", headers=headers)
                assert called.status_code == 200, called.text
                ticket = called.json()["ticket"]
                if ticket is None:
                    return
                if ticket["id"] % 4 == 0:
                    recalled = await http.post(
                        f"{server.url}{STAFF}/tickets/{ticket['id']}/recall", headers=headers
                    )
                    assert recalled.status_code == 200, recalled.text
                done = await http.post(
                    f"{server.url}{STAFF}/tickets/{ticket['id']}/complete", headers=headers
                )
                assert done.status_code == 200, done.text

        # The first half of the calls, seen by every board.
        await asyncio.gather(*(desk_at_work(i, name, 4) for i, name in enumerate(DESKS)))
        half = await _last_event(database_url)
        await wait_for(lambda: _all_have(list(boards), half), 20)
        # Board a-0 hangs up, and PostgreSQL drops both processes' listening connections.
        moved = next(iter(boards))
        followers[moved.name].cancel()
        await asyncio.gather(followers[moved.name], return_exceptions=True)
        admin = await asyncpg.connect(database_url)
        try:
            dropped = await admin.fetchval(
                """
                select count(pg_terminate_backend(pid)) from pg_stat_activity
                 where datname = current_database() and query ilike 'listen%'
                """
            )
        finally:
            await admin.close()
        assert dropped == 2  # one per process
        # The second half while the listeners reconnect and a-0 comes back at process b.
        followers[moved.name] = asyncio.create_task(
            moved.follow(http, f"{b.url}{BOARD}", {**display, "Last-Event-ID": str(half)})
        )
        await asyncio.gather(*(desk_at_work(i, name, TICKETS) for i, name in enumerate(DESKS)))

        conn = await asyncpg.connect(database_url)
        try:
            stored = await conn.fetch(
                "select id, kind, display_code, desk_name from call_event order by id"
            )
        finally:
            await conn.close()
        expected = [(r["id"], r["kind"], r["display_code"], r["desk_name"]) for r in stored]
        assert len([e for e in expected if e[1] == "call"]) == TICKETS
        assert [e[0] for e in expected] == list(range(1, len(expected) + 1))
        last = expected[-1][0]
        await wait_for(lambda: _all_have(list(boards), last), 20)
        for task in followers.values():
            task.cancel()
        await asyncio.gather(*followers.values(), return_exceptions=True)
    for board in boards:
        got = [(e["id"], e["kind"], e["code"], e["desk"]) for e in board.events]
        assert got == expected, board.name
    assert not a.errors()
    assert not b.errors()


async def _has(board: Board, count: int) -> bool:
    return len(board.events) >= count


async def _last_event(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        last: int = await conn.fetchval("select max(id) from call_event")
    finally:
        await conn.close()
    return last


async def _all_have(boards: list[Board], last: int) -> bool:
    return all(board.ids and board.ids[-1] >= last for board in boards)


async def test_a_board_from_now_and_without_a_display_token(
    office: tuple[Office, dict[str, str]], servers: tuple[Service, Service]
) -> None:
    desk_office, staff = office
    a, _ = servers
    async with httpx.AsyncClient(base_url=a.url, timeout=httpx.Timeout(30.0)) as http:
        for headers in ({}, bearer(desk_office.kiosk), bearer(staff["Schalter 1"])):
            refused = await http.get(BOARD, headers=headers)
            assert refused.status_code in {401, 403}
            assert refused.json()["code"] in {"unauthorized", "wrong_device"}
        for bad in ({"Last-Event-ID": "elf"}, {"Last-Event-ID": "-1"}):
            answer = await http.get(BOARD, headers={**bearer(desk_office.display), **bad})
            assert answer.status_code == 422, answer.text
        await http.post("/api/v1/kiosk/tickets", json={"service": "kfz"},
                        headers=bearer(desk_office.kiosk))  # fmt: skip
        await http.post(f"{STAFF}/call-next", headers=bearer(staff["Schalter 1"]))
        board = Board("now")
        # After the state at event 1, and a Last-Event-ID from the future: only what is new.
        follower = asyncio.create_task(board.follow(
            http, f"{a.url}{BOARD}", {**bearer(desk_office.display), "Last-Event-ID": "999"}
        ))  # fmt: skip
        await asyncio.wait_for(board.subscribed.wait(), 10)
        await http.post("/api/v1/kiosk/tickets", json={"service": "kfz"},
                        headers=bearer(desk_office.kiosk))  # fmt: skip
        await http.post(f"{STAFF}/call-next", headers=bearer(staff["Schalter 2"]))
        await wait_for(lambda: _has(board, 1), 10)
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert [(e["id"], e["code"], e["desk"]) for e in board.events] == [(2, "K002", "Schalter 2")]


async def test_an_open_stream_does_not_hold_up_a_graceful_stop(
    office: tuple[Office, dict[str, str]],
    database_url: str,
    redis_url: str,
    redis: Redis,
    tmp_path: Path,
) -> None:
    """A stream ends after BOOKING_EVENT_STREAM_SECONDS (the board reconnects with its
    Last-Event-ID), so SIGTERM waits for it that long at most, not for the kill timeout."""
    desk_office, _ = office
    server = start_serve(service_env(database_url, redis_url, event_stream_seconds="2"), tmp_path)
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http:
            board = Board("short")
            url = f"{server.url}{BOARD}?after=0"
            follower = asyncio.create_task(board.follow(http, url, bearer(desk_office.display)))
            await asyncio.wait_for(board.subscribed.wait(), 10)
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(server.process.wait, 15) == 0
            await follower  # ended by the server, cleanly
            assert time.monotonic() - started < 5
    finally:
        server.kill()


# More boards than Granian lets one worker serve at once by default (1024 / workers).
MANY_BOARDS = 1100


async def test_a_desk_is_answered_while_more_than_a_thousand_boards_follow(
    office: tuple[Office, dict[str, str]], servers: tuple[Service, Service]
) -> None:
    """A board's stream stays open for minutes; a desk's call must not queue behind them."""
    desk_office, staff = office
    a, _ = servers
    boards = [Board(str(n)) for n in range(MANY_BOARDS)]
    many = httpx.Limits(max_connections=MANY_BOARDS + 10, max_keepalive_connections=10)
    async with httpx.AsyncClient(base_url=a.url, timeout=15, limits=many) as http:
        followers = [
            asyncio.create_task(board.follow(http, BOARD, bearer(desk_office.display)))
            for board in boards
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*(b.subscribed.wait() for b in boards)), 60)
            issued = await http.post("/api/v1/kiosk/tickets", headers=bearer(desk_office.kiosk),
                                     json={"service": EVERYTHING[0]})  # fmt: skip
            assert issued.status_code == 201, issued.text
            called = await http.post(f"{STAFF}/call-next", headers=bearer(staff["Schalter 1"]))
            assert called.status_code == 200, called.text
            code = called.json()["ticket"]["code"]

            async def all_shown() -> bool:
                return all(any(e["code"] == code for e in b.events) for b in boards)

            await wait_for(all_shown, 30)
        finally:
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
    assert not a.errors()
